// Package store declares the storage Signal needs, split by concern, with one
// params struct per call. Backends (store/sqlite, store/postgres, over the
// shared SQL core store/sqlstore) must pass the conformance suite in
// store/storetest.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// Store is everything a backend provides.
type Store interface {
	EventStore
	PipelineStore
	UserStore
	AuditStore
	IntegrationStore
	BlueprintStore
	ProfileStore
	DeliveryStore
	BackfillStore
	AlertStore
	ContactStore
	RateBudgetStore
	Close() error
}

// ProcessorCursor names the processor's position in the event log, moved by
// RecordProcessed.
const ProcessorCursor = "processor"

// ContactIndexCursor is where the processor started indexing every event
// by the ids, emails and phone numbers it holds (migration 015): a privacy
// request reads the events up to it whole, and finds later ones by key.
const ContactIndexCursor = "contact_index"

// EventStore is the durable event log.
type EventStore interface {
	// AppendEvents stores events durably (committed and synced) before it
	// returns; concurrent callers share commits. It sets each event's Seq.
	AppendEvents(ctx context.Context, p AppendEventsParams) error
	// ListEvents returns events with Seq > AfterSeq in Seq order. UserID
	// and AnonymousID are not kept apart from the (sealed) payload: readers
	// take them from Payload.
	ListEvents(ctx context.Context, p ListEventsParams) ([]signal.Event, error)
	// Cursor returns the named consumer position in the log (0 if unset).
	Cursor(ctx context.Context, p CursorParams) (int64, error)
}

type CursorParams struct {
	Name string
}

type AppendEventsParams struct {
	Events []*signal.Event
	// Replay, when set, makes the events commit at most once for its key
	// (a hash of a signed request's signature), atomically with them, on
	// every node sharing the store, until Replay.Expires: a second append
	// with the key stores nothing and returns an error wrapping
	// ErrReplayed.
	Replay *ReplayGuard
}

// ReplayGuard is a signed request's mark (see AppendEventsParams.Replay).
type ReplayGuard struct {
	Key     string
	Expires time.Time
}

// ErrReplayed: the request's events were already stored once.
var ErrReplayed = errors.New("signed request already accepted")

type ListEventsParams struct {
	AfterSeq int64
	Limit    int
}

// PipelineStore keeps pipelines.
type PipelineStore interface {
	CreatePipeline(ctx context.Context, p CreatePipelineParams) (*signal.Pipeline, error)
	GetPipeline(ctx context.Context, p GetPipelineParams) (*signal.Pipeline, error)
	ListPipelines(ctx context.Context, p ListParams) ([]*signal.Pipeline, error)
	UpdatePipeline(ctx context.Context, p UpdatePipelineParams) (*signal.Pipeline, error)
	DeletePipeline(ctx context.Context, p DeletePipelineParams) error
	// RotatePipeline gives a pipeline a new key and signing secret; the
	// current ones become the previous ones, accepted until PreviousUntil
	// (GetPipeline by Key finds the pipeline by either key meanwhile).
	RotatePipeline(ctx context.Context, p RotatePipelineParams) (*signal.Pipeline, error)
}

type RotatePipelineParams struct {
	ID            string
	Key           string
	SigningSecret string
	PreviousUntil time.Time
	Now           time.Time
}

type DeletePipelineParams struct {
	ID string
}

type CreatePipelineParams struct {
	ID            string
	Name          string
	Key           string
	SigningSecret string
	Now           time.Time
}

// GetPipelineParams finds a pipeline by ID or by Key (one of them). By
// Key, a rotated-out key finds its pipeline while its overlap lasts at Now
// (zero: the wall clock).
type GetPipelineParams struct {
	ID  string
	Key string
	Now time.Time
}

// UpdatePipelineParams changes the non-nil fields of pipeline ID.
type UpdatePipelineParams struct {
	ID               string
	Name             *string
	SignedOnlyEvents *[]string
	Now              time.Time
}

// ListParams pages a list: items after the cursor ID, in ID order.
type ListParams struct {
	After string
	Limit int
}

// UserStore keeps Management API users and their refresh tokens.
type UserStore interface {
	CountUsers(ctx context.Context) (int, error)
	CreateUser(ctx context.Context, p CreateUserParams) error
	// GetUser finds a user by ID or by email (case-insensitive).
	GetUser(ctx context.Context, p GetUserParams) (*signal.User, error)
	// ListUsers pages users in ID order.
	ListUsers(ctx context.Context, p ListParams) ([]*signal.User, error)
	// UpdateUser sets a user's role and/or password hash. Demoting the last
	// admin is ECONFLICT, decided in the same transaction as the write, so
	// two concurrent demotions cannot leave no admin.
	UpdateUser(ctx context.Context, p UpdateUserParams) (*signal.User, error)
	// DeleteUser deletes a user and their refresh tokens at once. Deleting
	// the last admin is ECONFLICT (atomically, as for UpdateUser).
	DeleteUser(ctx context.Context, p DeleteUserParams) error
	CreateRefreshToken(ctx context.Context, p CreateRefreshTokenParams) error
	// ConsumeRefreshToken deletes the token and returns it; a token can be
	// consumed once (rotation). Unknown or expired: ENOTFOUND.
	ConsumeRefreshToken(ctx context.Context, p ConsumeRefreshTokenParams) (*signal.RefreshToken, error)
	// RevokeSession records a signed-out session until Until (when its
	// last access token expires), so every node refuses its tokens;
	// sessions revoked longer ago are forgotten.
	RevokeSession(ctx context.Context, p RevokeSessionParams) error
	// SessionRevoked reports whether a session was signed out (and its
	// record has not yet expired at Now).
	SessionRevoked(ctx context.Context, p SessionRevokedParams) (bool, error)
}

type RevokeSessionParams struct {
	SessionID string
	Until     time.Time
	Now       time.Time
}

type SessionRevokedParams struct {
	SessionID string
	Now       time.Time
}

type CreateUserParams struct {
	User *signal.User
}

type CreateRefreshTokenParams struct {
	Token signal.RefreshToken
}

type GetUserParams struct {
	ID    string
	Email string
}

// UpdateUserParams changes the non-nil fields of user ID.
type UpdateUserParams struct {
	ID           string
	Role         *string
	PasswordHash *string
}

type DeleteUserParams struct {
	ID string
}

// AuditStore keeps the audit log of changes.
type AuditStore interface {
	AppendAudit(ctx context.Context, p AppendAuditParams) error
	// ListAudit lists entries newest first, Limit at a time; it returns
	// the cursor of the next page ("" at the end).
	ListAudit(ctx context.Context, p ListAuditParams) ([]*signal.AuditEntry, string, error)
}

type AppendAuditParams struct {
	Entry *signal.AuditEntry
}

type ListAuditParams struct {
	Cursor string
	Limit  int
}

type ConsumeRefreshTokenParams struct {
	Hash string
	Now  time.Time
}

// IntegrationStore keeps installed integrations. Config is encrypted at rest.
type IntegrationStore interface {
	CreateIntegration(ctx context.Context, p CreateIntegrationParams) error
	GetIntegration(ctx context.Context, p GetIntegrationParams) (*signal.Integration, error)
	ListIntegrations(ctx context.Context, p ListParams) ([]*signal.Integration, error)
	// UpdateIntegration writes every field of p.Integration (by ID) but its
	// creation time.
	UpdateIntegration(ctx context.Context, p UpdateIntegrationParams) error
	// DeleteIntegration deletes an integration; its pending deliveries end
	// filtered, integration_deleted, stamped Now.
	DeleteIntegration(ctx context.Context, p DeleteIntegrationParams) error
	// PauseIntegration sets an active integration paused with Reason, only
	// if it is unchanged since IfUpdatedAt (the version the refused request
	// was sent with): a key replaced meanwhile is never overwritten. It
	// reports whether it paused.
	PauseIntegration(ctx context.Context, p PauseIntegrationParams) (bool, error)
}

type CreateIntegrationParams struct {
	Integration *signal.Integration
}

type GetIntegrationParams struct {
	ID string
}

type UpdateIntegrationParams struct {
	Integration *signal.Integration
}

type DeleteIntegrationParams struct {
	ID  string
	Now time.Time
}

type PauseIntegrationParams struct {
	ID          string
	Reason      signal.Reason
	IfUpdatedAt time.Time
	Now         time.Time
}

// BlueprintStore keeps every blueprint an integration was given, as
// numbered versions, and the property types its vendor events were first
// built with.
type BlueprintStore interface {
	// SaveBlueprint sets the integration's blueprint and keeps it as its
	// next version (1 for the first), atomically: two saves at once get
	// two versions. Unknown integration: ENOTFOUND.
	SaveBlueprint(ctx context.Context, p SaveBlueprintParams) (*signal.BlueprintVersion, error)
	// ListBlueprintVersions lists an integration's versions newest first,
	// Limit at a time; it returns the cursor of the next page ("" at the
	// end).
	ListBlueprintVersions(ctx context.Context, p ListBlueprintVersionsParams) ([]*signal.BlueprintVersion, string, error)
	// GetBlueprintVersion returns one version. Unknown: ENOTFOUND.
	GetBlueprintVersion(ctx context.Context, p GetBlueprintVersionParams) (*signal.BlueprintVersion, error)
	// RememberPropertyTypes stores each given property's type unless one
	// is already stored for its (integration, vendor event, property), and
	// returns the stored types of the given properties: the first type
	// written wins, on every node.
	RememberPropertyTypes(ctx context.Context, p RememberPropertyTypesParams) (map[PropertyKey]string, error)
	// PropertyTypes returns every stored property type of an integration.
	PropertyTypes(ctx context.Context, p PropertyTypesParams) (map[PropertyKey]string, error)
}

type PropertyTypesParams struct {
	IntegrationID string
}

type SaveBlueprintParams struct {
	IntegrationID string
	Blueprint     signal.Blueprint
	Author        signal.AuditActor
	Summary       string
	Now           time.Time
}

type ListBlueprintVersionsParams struct {
	IntegrationID string
	Cursor        string
	Limit         int
}

type GetBlueprintVersionParams struct {
	IntegrationID string
	Version       int
}

// PropertyKey names one property of one integration's vendor event.
type PropertyKey struct {
	IntegrationID   string
	VendorEventName string
	Property        string
}

type RememberPropertyTypesParams struct {
	Types map[PropertyKey]string
	Now   time.Time
}

// ProfileStore keeps visitor profiles. Keys are keyed hashes of the ids a
// visitor was seen with ("u:"+userId, "a:"+anonymousId), never the ids.
type ProfileStore interface {
	// ResolveProfiles applies Items in order, in one transaction: each
	// links its keys to one profile (merging profiles that were apart: the
	// oldest keeps its id; per key the most trusted, then the most recently
	// updated value wins: MergeProfiles), merges its Traits in (new keys
	// win, but never over a key a more trusted source set: MergeTraits) and
	// yields the profile as it then stands.
	// Applying the same items twice leaves the same stored state.
	// Backends merge with the one resolver, store.ResolveProfiles: they
	// load the items' key links and profiles and write back its
	// ProfilePass, a few statements per call whatever its size.
	ResolveProfiles(ctx context.Context, p ResolveProfilesParams) ([]*signal.Profile, error)
}

type ResolveProfilesParams struct {
	Items []ProfileUpdate
	Now   time.Time
}

// ProfileUpdate is one event's identity: its id keys and the traits it
// carries (nil for none), with the trust rank of its source
// (signal.TrustRank of the event's Trust).
type ProfileUpdate struct {
	Keys   []string
	Traits map[string]any
	Trust  int
	// Consent is the marketing consent the event states
	// (signal.ConsentGranted, signal.ConsentDenied), "" when it states
	// none: the profile keeps the last one stated.
	Consent string
}

// DeliveryStore keeps deliveries: the per-integration queue and Live Events.
type DeliveryStore interface {
	// RecordProcessed stores the outcome of processing events up to
	// UpToSeq and moves the processor cursor there, atomically. A delivery
	// whose (integration, pipeline, signed-or-not, message id) was already
	// recorded in the last DedupeWindow is stored as filtered, reason
	// duplicate (message ids are the sender's and the pipeline key is
	// public: an unsigned event never suppresses a signed one); a pending
	// delivery of an integration deleted meanwhile, as filtered,
	// integration_deleted.
	RecordProcessed(ctx context.Context, p RecordProcessedParams) error
	// ClaimDeliveries returns up to Limit pending deliveries of one
	// integration that are due, highest priority first, oldest first, and
	// leases them until LeaseUntil. A delivery waits while its contact has
	// an earlier pending delivery of the same or a higher priority: one
	// contact's events keep their order, except that a higher-priority
	// event (an order) does not wait behind the contact's page views.
	// Deliveries of a backfill (Delivery.BackfillID) are neither claimed
	// nor waited behind: the backfill sender claims them
	// (BackfillStore.ClaimBackfillDeliveries).
	ClaimDeliveries(ctx context.Context, p ClaimDeliveriesParams) ([]*signal.Delivery, error)
	// FinishDeliveries writes the outcome of attempts.
	FinishDeliveries(ctx context.Context, p FinishDeliveriesParams) error
	// NextDue returns when the integration's earliest pending live
	// delivery is due (false when it has none); backfill rows do not count.
	NextDue(ctx context.Context, p NextDueParams) (time.Time, bool, error)
	// RequeueDeliveries sets the deliveries of an integration in Status
	// (failed) whose event was received at or after Since back to pending,
	// with a fresh retry window (replay), as live deliveries (a backfill's
	// mark is cleared: its backfill may be over). It returns how many.
	RequeueDeliveries(ctx context.Context, p RequeueDeliveriesParams) (int, error)
	// ReplayableDeliveries returns up to Limit deliveries of an integration
	// in Status whose reason is one of Reasons (any, when empty), with id
	// above AfterID, in id order; or, with DeliveryID set, that one delivery
	// whatever its state. Each comes with its event and processed body
	// (nil if none): what a replay rebuilds through the current blueprint.
	ReplayableDeliveries(ctx context.Context, p ReplayableParams) ([]Replayable, error)
	// ReplaceDeliveries writes rebuilt deliveries over their rows (by ID):
	// Status, Reason, Note, VendorEventName, Priority, ContactKey, Payload
	// and ExpiresAt as given, attempts reset, due Now, as live deliveries
	// (a backfill's mark cleared, as for RequeueDeliveries). A row no longer in
	// the status and reason it was read with (p.Was, by ID) is left alone,
	// so a replay racing a worker or a second replay sends nothing twice.
	// It returns how many rows it replaced.
	ReplaceDeliveries(ctx context.Context, p ReplaceDeliveriesParams) (int, error)
	// ListLiveEvents lists events and their deliveries, newest first.
	ListLiveEvents(ctx context.Context, p ListLiveEventsParams) ([]*signal.LiveEvent, string, error)
	// CountLiveEvents counts the Live Events rows matching the filters by
	// the status they show (Status, Cursor and Limit are ignored).
	CountLiveEvents(ctx context.Context, p ListLiveEventsParams) (LiveCounts, error)
	// GetLiveEvent returns one Live Events row with its processed event and
	// its delivery's last attempts, oldest first. Unknown: ENOTFOUND.
	GetLiveEvent(ctx context.Context, p GetLiveEventParams) (*signal.LiveEventDetail, error)
	// IntegrationHealth summarises an integration's recent outcomes and
	// backlog as of Now.
	IntegrationHealth(ctx context.Context, p IntegrationHealthParams) (*IntegrationHealth, error)
	// ReleaseLeases makes every leased delivery claimable again (at start-up
	// of a single node, after a crash).
	ReleaseLeases(ctx context.Context) error
	// Prune deletes what is no longer needed: dedupe entries created
	// before DedupeBefore, and up to Limit of the events received before
	// Before that the processor has passed, wherever they lie in the log,
	// with their deliveries. Their deliveries still waiting (a paused or
	// disabled integration's included) end filtered, reason expired, first,
	// so that a worker's late outcome cannot bring them back. It returns
	// how many events it deleted and deliveries it expired; callers repeat
	// until fewer than Limit events were deleted.
	Prune(ctx context.Context, p PruneParams) (PruneResult, error)
}

type RecordProcessedParams struct {
	// FromSeq, when set, is the cursor the events were read at: if another
	// processor has moved it since, nothing is written and the error is
	// ECONFLICT. Several nodes may then run processors safely.
	FromSeq    *int64
	UpToSeq    int64
	Deliveries []*signal.Delivery
	// SearchKeys are the keyed hashes Live Events finds the events by.
	SearchKeys []SearchKey
	// Processed are the events after identity and consent (stored sealed).
	Processed    []ProcessedEvent
	DedupeWindow time.Duration
	Now          time.Time
}

// SearchKey links a keyed hash of an id ("u:"+user id, "e:"+email, "o:"+
// order id) to an event.
type SearchKey struct {
	EventSeq int64
	Key      string
}

// ProcessedEvent is the JSON of a signal.Processed for one event.
type ProcessedEvent struct {
	EventSeq int64
	Body     []byte
}

// MaxAttemptsKept is how many attempts a delivery keeps (the last ones).
const MaxAttemptsKept = 20

type ClaimDeliveriesParams struct {
	IntegrationID string
	Limit         int
	Now           time.Time
	LeaseUntil    time.Time
}

// FinishDeliveriesParams carries finished attempts. Each delivery's Status,
// Reason, Note, Attempts, NextAttemptAt, VendorStatus, VendorResponse and
// Payload are written as given, and its lease released, if it is still
// pending under the lease its claim took (LeaseUntil): a delivery filtered
// meanwhile (its integration deleted) or claimed again after the lease ran
// out (by another node) is left as it is.
type FinishDeliveriesParams struct {
	Deliveries []*signal.Delivery
	Now        time.Time
}

type NextDueParams struct {
	IntegrationID string
}

type RequeueDeliveriesParams struct {
	IntegrationID string
	Status        signal.DeliveryStatus
	Since         time.Time
	Now           time.Time
}

type ReplayableParams struct {
	IntegrationID string
	Status        signal.DeliveryStatus
	Reasons       []signal.Reason
	// Since keeps events received at or after it (zero: all).
	Since   time.Time
	AfterID int64
	Limit   int
	// DeliveryID, when set, selects that delivery alone (the other
	// filters are ignored). Unknown: an empty result.
	DeliveryID int64
}

// Replayable is a delivery with what rebuilding it needs.
type Replayable struct {
	Delivery  *signal.Delivery
	Event     signal.Event
	Processed []byte
}

type ReplaceDeliveriesParams struct {
	Deliveries []*signal.Delivery
	// Was is each delivery's status and reason when it was read, by ID.
	Was map[int64]DeliveryState
	Now time.Time
}

// DeliveryState is a delivery's status and reason.
type DeliveryState struct {
	Status signal.DeliveryStatus
	Reason signal.Reason
}

type PruneParams struct {
	Before       time.Time
	DedupeBefore time.Time
	Limit        int
	// Now stamps the deliveries it expires (zero: the wall clock).
	Now time.Time
}

// PruneResult says what one Prune call did.
type PruneResult struct {
	// Events is how many events were deleted (at most Limit).
	Events int
	// Expired is how many of their deliveries were still waiting (a paused
	// or disabled integration's, or one retrying) and ended filtered,
	// expired.
	Expired int
}

// AlertStore keeps the alert settings and the open alert incidents.
type AlertStore interface {
	// GetAlertSettings returns the settings (ENOTFOUND when never set).
	GetAlertSettings(ctx context.Context) (*signal.AlertSettings, error)
	// PutAlertSettings replaces the settings (stored sealed).
	PutAlertSettings(ctx context.Context, p PutAlertSettingsParams) error
	// ListAlertIncidents lists the open incidents.
	ListAlertIncidents(ctx context.Context) ([]AlertIncident, error)
	// OpenAlertIncident records an incident; false if it was already open
	// (then nobody posts it again, on any node).
	OpenAlertIncident(ctx context.Context, p AlertIncident) (bool, error)
	// CloseAlertIncident removes an incident; false if it was not open.
	CloseAlertIncident(ctx context.Context, p AlertIncident) (bool, error)
	// RecentAttempts counts the integration's last Limit attempts and how
	// many of them failed (a transport error or a non-2xx answer).
	RecentAttempts(ctx context.Context, p RecentAttemptsParams) (total, failed int, err error)
	// ClaimAlertPosts leases up to Limit queued posts due at Now (oldest
	// first) until LeaseUntil: no other claim returns them before then, on
	// any node.
	ClaimAlertPosts(ctx context.Context, p ClaimAlertPostsParams) ([]AlertPost, error)
	// FinishAlertPost removes a post (Done: sent, or given up) or schedules
	// its next attempt.
	FinishAlertPost(ctx context.Context, p FinishAlertPostParams) error
}

type PutAlertSettingsParams struct {
	Settings signal.AlertSettings
	Now      time.Time
}

// AlertIncident is one open alert: Kind (integration_paused,
// backlog_stale, delivery_failing) of one integration.
type AlertIncident struct {
	IntegrationID string
	Kind          string
	OpenedAt      time.Time
	// Post, if set, is queued in the same transaction that opens (or
	// closes) the incident, so that a change is never made without its
	// post, nor posted twice (ID, Attempts and NextAt are the store's).
	Post *AlertPost
}

// AlertPost is one webhook post waiting to be sent: queued with the
// incident change it announces, kept until the webhook takes it or its
// retries run out, so a restart neither loses nor repeats it.
type AlertPost struct {
	ID            int64
	Alert         string
	IntegrationID string
	// Body is the JSON posted (ids, names and reasons, no personal data).
	Body      []byte
	CreatedAt time.Time
	// Attempts counts the failed sends so far.
	Attempts int
}

type ClaimAlertPostsParams struct {
	Now, LeaseUntil time.Time
	Limit           int
}

type FinishAlertPostParams struct {
	ID int64
	// Done removes the post; else it is due again at NextAt, after
	// Attempts failed sends.
	Done     bool
	NextAt   time.Time
	Attempts int
}

type RecentAttemptsParams struct {
	IntegrationID string
	Limit         int
}

// ContactStore finds and erases everything held about one person (privacy
// requests). Ids are stored only as keyed hashes and values sealed, so the
// caller says how to recognise the person: the hashes of their ids and
// matchers run on opened profiles and events.
type ContactStore interface {
	// FindContact returns the person's profiles and events (events already
	// erased are not theirs any more).
	FindContact(ctx context.Context, p FindContactParams) (*Contact, error)
	// EraseContact deletes the person's profiles and their keys, empties
	// their events (the rows stay, without payload, for Live Events'
	// counts), deletes their search keys, processed events and attempts,
	// drops payloads and vendor responses from their deliveries and ends
	// the pending ones filtered, contact_erased, stamped Now.
	EraseContact(ctx context.Context, p FindContactParams) (EraseResult, error)
}

// FindContactParams says who the person is.
type FindContactParams struct {
	// ProfileKeys are keyed hashes of the person's ids ("u:"+user id,
	// "a:"+anonymous id), as profiles are keyed.
	ProfileKeys []string
	// SearchKeys are keyed hashes the person's events are indexed by
	// ("u:"+user id, "e:"+email, "p:"+phone digits); the profile keys of
	// the person's profiles are looked up in the same index.
	SearchKeys []string
	// MatchProfile, if set, reports whether a profile's traits are the
	// person's (an email or phone, which no key indexes).
	MatchProfile func(traits map[string]any) bool
	// EventKeys returns the profile keys of an event's ids: an event
	// whose keys meet the person's profile keys is theirs.
	EventKeys func(payload []byte) []string
	// MatchEvent, if set, reports whether an event names the person
	// itself (an email or phone in its traits or properties).
	MatchEvent func(payload []byte) bool
	Now        time.Time
}

// Contact is what Signal holds about one person.
type Contact struct {
	Profiles []ContactProfile
	Events   []ContactEvent
}

// ContactProfile is one of the person's profiles.
type ContactProfile struct {
	ID     int64
	Traits map[string]any
}

// ContactEvent is one of the person's events and its deliveries.
type ContactEvent struct {
	Event      signal.Event
	Deliveries []ContactDelivery
}

// ContactDelivery is where one of the person's events went.
type ContactDelivery struct {
	IntegrationID string
	Status        signal.DeliveryStatus
	Reason        signal.Reason
}

// EraseResult counts what an erasure removed.
type EraseResult struct {
	Profiles   int `json:"profiles"`
	Events     int `json:"events"`
	Deliveries int `json:"deliveries"`
}

// Cipher seals sensitive columns (config, payloads, traits) at rest.
type Cipher interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}
