// Package klaviyo delivers events to Klaviyo's Events API
// (POST {base}/api/events) and identify calls to its profile import
// (POST {base}/api/profile-import). It builds the payload and the request
// and reads the answer; retries, pacing and storage belong to package
// delivery.
//
// Revision: every request carries `revision: 2026-10-15`, the GA revision
// this package was written against (Klaviyo's API reference, checked
// 2026-11-30; a revision is supported for two years after release).
//
// Nothing here logs. Errors never carry the API key, an email address or a
// phone number.
package klaviyo

import (
	"strings"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// Catalog and API facts.
const (
	Key = "klaviyo"
	// DefaultBaseURL is Klaviyo's API; SIGNAL_KLAVIYO_API_URL overrides it.
	DefaultBaseURL = "https://a.klaviyo.com"
	// Revision is the one GA API revision every request names.
	Revision = "2026-10-15"
	// EventsPath, ProfileImportPath and AccountsPath are appended to the
	// base URL.
	EventsPath        = "/api/events"
	ProfileImportPath = "/api/profile-import"
	AccountsPath      = "/api/accounts"
	// RateLimitPerMinute is Create Event's documented steady limit
	// (3,500/min; burst 350/s, a 1-second window Klaviyo does not
	// advertise). Profile import is documented lower (700/min): its 429s
	// are waited out like any other, and RateLimit-* headers lower the
	// pace as soon as Klaviyo answers.
	RateLimitPerMinute = 3500
	// Timeout bounds one request.
	Timeout = 10 * time.Second
	// ProfileImportName is the vendor event name of an identify call, shown
	// on Live Events.
	ProfileImportName = "profile-import"
)

// Config keys.
const (
	ConfigAPIKey = "api_key"
)

// Options configure the vendor.
type Options struct {
	// BaseURL is Klaviyo's API base, DefaultBaseURL if empty.
	BaseURL string
	// Version is Signal's version, sent in the User-Agent.
	Version string
}

// Vendor is Klaviyo, an integration.Vendor.
type Vendor struct {
	base    string
	version string
}

var _ integration.Vendor = (*Vendor)(nil)

// New returns the Klaviyo vendor.
func New(opts Options) *Vendor {
	base := strings.TrimRight(strings.TrimSpace(opts.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	return &Vendor{base: base, version: opts.Version}
}

// Entry describes Klaviyo for the catalog.
func (v *Vendor) Entry() integration.CatalogEntry {
	return integration.CatalogEntry{
		Key:           Key,
		Name:          "Klaviyo",
		Description:   "Email and SMS marketing automation with a customer data platform: flows, segments and revenue attribution from your store's events.",
		Category:      "marketing_automation",
		CategoryLabel: "Marketing Automation",
		Status:        "alpha",
		Website:       "https://www.klaviyo.com",
		ConfigFields: []integration.ConfigField{
			{
				Key:         ConfigAPIKey,
				Label:       "Private API key",
				Type:        "secret",
				Required:    true,
				Placeholder: "pk_…",
				HelpText:    "A private API key (Settings → API keys → Create Private API Key) with Events: Write, Profiles: Write and Accounts: Read. Sent as Authorization: Klaviyo-API-Key on every request.",
			},
			{
				Key:         integration.ConfigDefaultPhoneRegion,
				Label:       "Default phone region",
				Type:        "string",
				Placeholder: "GB",
				HelpText:    "Region used to read phone numbers written without a country code when the visitor's locale names none, as a two-letter ISO 3166 code, e.g. GB.",
			},
			{
				Key:      signal.ConfigDryRun,
				Label:    "Dry run",
				Type:     "boolean",
				HelpText: "Build payloads and show them in Live Events, but send nothing to Klaviyo.",
			},
		},
		Variants: []integration.Variant{{
			Key:         "default",
			Name:        "Ecommerce (default)",
			Description: "Viewed Product, Added to Cart, Started Checkout, Placed Order, Signed Up and Active on Site metrics, named as Klaviyo's ecommerce flows expect; identify calls update the profile. Other events are dropped until enabled.",
			Blueprint:   DefaultBlueprint(),
		}},
		DeliveryModes:      []string{"server_side"},
		RateLimitPerMinute: RateLimitPerMinute,
		SetupSteps: []string{
			"In Klaviyo, open Settings → API keys → Create Private API Key, with Events: Write, Profiles: Write and Accounts: Read.",
			"Install Klaviyo here with that key: it is checked once (a refused key is not installed); turn on Dry run to see each payload in Live Events first.",
			"Send a test event: a \"Signal Test Event\" metric appears in Klaviyo's Analytics → Metrics.",
			"Build flows on Placed Order, Started Checkout, Added to Cart, Viewed Product and Active on Site; identify calls keep profiles up to date.",
		},
	}
}

// Calls: track and page become events; identify updates the profile.
func (v *Vendor) Calls() []integration.CallType {
	return []integration.CallType{integration.CallTrack, integration.CallPage, integration.CallIdentify}
}

// Identified: Klaviyo keys profiles by email, phone number or external id.
func (v *Vendor) Identified(c integration.Contact) bool {
	return c.Email != "" || c.Phone != "" || c.ExternalID != ""
}

// maxTargetLen bounds a property name (Klaviyo documents none shorter;
// this keeps names readable in its UI).
const maxTargetLen = 255

// ValidateTarget: Klaviyo accepts any property name; names starting with
// "$" are its own special properties ($value, $event_id…), which Signal
// sets itself, so a mapping may not write one.
func (v *Vendor) ValidateTarget(t string) error {
	if strings.HasPrefix(t, "$") {
		return signal.Errorf(signal.EINVALID, "names starting with $ are Klaviyo's special properties")
	}
	if len(t) > maxTargetLen {
		return signal.Errorf(signal.EINVALID, "must be at most %d characters", maxTargetLen)
	}
	return nil
}

// RateLimitKey: a private key's integrations share one account quota.
func (v *Vendor) RateLimitKey(in *signal.Integration) string { return in.ConfigString(ConfigAPIKey) }

// Timeout bounds one request.
func (v *Vendor) Timeout() time.Duration { return Timeout }

// TestEvent is a "Signal Test Event" metric for the person c.
func (v *Vendor) TestEvent(in *signal.Integration, c integration.Contact, now time.Time) *integration.Event {
	return integration.NewTestEvent(in, c, "Signal Test Event", now)
}
