// Package store declares the storage Signal needs, split by concern, with one
// params struct per call. Backends (store/sqlite, store/postgres, over the
// shared SQL core store/sqlstore) must pass the conformance suite in
// store/storetest.
package store

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

// ErasureCursor counts contact erasures (EraseContact moves it by one, in
// its transaction): a profile pass read before an erasure and recorded
// after it is refused (RecordProcessedParams.Profiles), so it cannot write
// back a profile or key the erasure deleted.
const ErasureCursor = "contact_erasures"

// Cipher seals sensitive columns (config, payloads, traits) at rest.
type Cipher interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}
