package signal

import "time"

// Profile is what Signal knows of one visitor, merged from identify calls
// and context.traits, under every id it was seen with.
type Profile struct {
	ID        int64
	UserID    string
	Traits    map[string]any
	UpdatedAt time.Time
}
