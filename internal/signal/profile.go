package signal

import "time"

// Profile is what Signal knows of one visitor, merged from identify calls
// and context.traits, under every id it was seen with.
type Profile struct {
	ID     int64
	UserID string
	Traits map[string]any
	// TraitTrust is, per trait key, the trust rank (signal.TrustRank) of
	// the source that set it, when above 0 (browser): a less trusted
	// source never overwrites it (see store.MergeTraits).
	TraitTrust map[string]int
	// Consent is the visitor's last known marketing consent
	// (ConsentGranted, ConsentDenied; "" unknown), from the last event
	// that stated it: an event that does not (a server-side order) uses it.
	Consent   string
	UpdatedAt time.Time
}

// A profile's remembered marketing consent.
const (
	ConsentGranted = "granted"
	ConsentDenied  = "denied"
)
