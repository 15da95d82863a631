package pipeline

import (
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/signal"
)

// contactWant is what one event's delivery should be: pending with this
// contact, or filtered with a reason.
type contactWant struct {
	reason                            signal.Reason // "" for pending
	email, phone, firstName, lastName string
}

func checkContact(t *testing.T, b *testBundle, messageID string, want contactWant) {
	t.Helper()
	le := b.row(t, messageID)
	if want.reason != "" {
		wantStatus(t, le, signal.StatusFiltered, want.reason)
		if string(le.Payload) != "null" {
			t.Fatalf("%s: filtered %s but has a payload %s", messageID, want.reason, le.Payload)
		}
		return
	}
	wantStatus(t, le, signal.StatusPending, "")
	c := payloadOf(t, le).Contact
	got := contactWant{email: c["email"], phone: c["phone"], firstName: c["firstName"], lastName: c["lastName"]}
	if got != want || len(c) != countSet(want) {
		t.Fatalf("%s: contact %v, want %+v", messageID, c, want)
	}
}

func countSet(w contactWant) int {
	n := 0
	for _, s := range []string{w.email, w.phone, w.firstName, w.lastName} {
		if s != "" {
			n++
		}
	}
	return n
}

const (
	janeIdentify = `{"type":"identify","messageId":"id-1","userId":"user-123","anonymousId":"anon-1",
		"traits":{"email":"jane@example.com","phone":"+447700900123","first_name":"Jane","last_name":"Doe"}}`
	orderProps = `"properties":{"order_id":"ORDER-5512","revenue":89.90,"currency":"GBP"}`
)

var jane = contactWant{email: "jane@example.com", phone: "+447700900123", firstName: "Jane", lastName: "Doe"}

// TestIdentity: identify and context.traits build a profile under every id
// the visitor was seen with, and later events carry it as the contact. Each
// case runs with the messages in one processor pass and in one pass each.
func TestIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msgs []string
		want map[string]contactWant
	}{
		{
			name: "identify then track from the anonymousId only",
			msgs: []string{janeIdentify, `{"type":"track","event":"Order Completed","messageId":"m1","anonymousId":"anon-1",` + orderProps + `}`},
			want: map[string]contactWant{"m1": jane, "id-1": {reason: signal.ReasonUnsupportedType}},
		},
		{
			name: "identify then track from the userId only",
			msgs: []string{janeIdentify, `{"type":"track","event":"Order Completed","messageId":"m1","userId":"user-123",` + orderProps + `}`},
			want: map[string]contactWant{"m1": jane},
		},
		{
			name: "context.traits on a track make a profile that later events carry",
			msgs: []string{
				`{"type":"track","event":"Signed Up","messageId":"m1","anonymousId":"anon-2","context":{"traits":{"email":"ct@example.com","firstName":"Cat"}}}`,
				`{"type":"track","event":"Product Added","messageId":"m2","anonymousId":"anon-2","properties":{"product_id":"SKU-1"}}`,
			},
			want: map[string]contactWant{"m1": {email: "ct@example.com", firstName: "Cat"}, "m2": {email: "ct@example.com", firstName: "Cat"}},
		},
		{
			name: "context.traits merge into an identified profile",
			msgs: []string{
				janeIdentify,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"user-123","context":{"traits":{"last_name":"Smith"}}}`,
				`{"type":"page","messageId":"m2","anonymousId":"anon-1"}`,
			},
			want: map[string]contactWant{
				"m1": {email: "jane@example.com", phone: "+447700900123", firstName: "Jane", lastName: "Smith"},
				"m2": {email: "jane@example.com", phone: "+447700900123", firstName: "Jane", lastName: "Smith"},
			},
		},
		{
			name: "new keys win: a second identify changes later events only",
			msgs: []string{
				janeIdentify,
				`{"type":"track","event":"Signed Up","messageId":"m1","anonymousId":"anon-1"}`,
				`{"type":"identify","messageId":"id-2","userId":"user-123","traits":{"email":"jane.new@example.com"}}`,
				`{"type":"track","event":"Signed Up","messageId":"m2","anonymousId":"anon-1"}`,
			},
			want: map[string]contactWant{
				"m1": jane,
				"m2": {email: "jane.new@example.com", phone: "+447700900123", firstName: "Jane", lastName: "Doe"},
			},
		},
		{
			name: "identify's own traits win over its context.traits",
			msgs: []string{
				`{"type":"identify","messageId":"id-1","userId":"u5","traits":{"email":"own@example.com"},"context":{"traits":{"email":"ctx@example.com","first_name":"Ctx"}}}`,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"u5"}`,
			},
			want: map[string]contactWant{"m1": {email: "own@example.com", firstName: "Ctx"}},
		},
		{
			name: "alias links previousId (a userId) to the new userId",
			msgs: []string{
				`{"type":"identify","messageId":"id-1","userId":"old-id","traits":{"email":"al@example.com"}}`,
				`{"type":"alias","messageId":"al-1","userId":"new-id","previousId":"old-id"}`,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"new-id"}`,
			},
			want: map[string]contactWant{"m1": {email: "al@example.com"}, "al-1": {reason: signal.ReasonUnsupportedType}},
		},
		{
			name: "alias links previousId (an anonymousId) to the userId",
			msgs: []string{
				`{"type":"identify","messageId":"id-1","anonymousId":"anon-7","traits":{"email":"anon7@example.com"}}`,
				`{"type":"alias","messageId":"al-1","userId":"user-7","previousId":"anon-7"}`,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"user-7"}`,
			},
			want: map[string]contactWant{"m1": {email: "anon7@example.com"}},
		},
		{
			name: "a numeric userId is the same id as its string",
			msgs: []string{
				`{"type":"identify","messageId":"id-1","userId":42,"traits":{"email":"n@example.com"}}`,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"42"}`,
			},
			want: map[string]contactWant{"m1": {email: "n@example.com"}},
		},
		{
			name: "email trimmed and lower-cased",
			msgs: []string{
				`{"type":"identify","messageId":"id-1","userId":"u1","traits":{"email":"  Jane.Doe@Example.COM\t"}}`,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"u1"}`,
			},
			want: map[string]contactWant{"m1": {email: "jane.doe@example.com"}},
		},
		{
			name: "first_name and last_name",
			msgs: []string{
				`{"type":"identify","messageId":"id-1","userId":"u1","traits":{"email":"a@example.com","first_name":" Ann ","last_name":"Lee"}}`,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"u1"}`,
			},
			want: map[string]contactWant{"m1": {email: "a@example.com", firstName: "Ann", lastName: "Lee"}},
		},
		{
			name: "firstName and lastName",
			msgs: []string{
				`{"type":"identify","messageId":"id-1","userId":"u1","traits":{"email":"a@example.com","firstName":"Ann","lastName":"Lee"}}`,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"u1"}`,
			},
			want: map[string]contactWant{"m1": {email: "a@example.com", firstName: "Ann", lastName: "Lee"}},
		},
		{
			name: "first_name wins over firstName",
			msgs: []string{
				`{"type":"identify","messageId":"id-1","userId":"u1","traits":{"email":"a@example.com","firstName":"Camel","first_name":"Snake"}}`,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"u1"}`,
			},
			want: map[string]contactWant{"m1": {email: "a@example.com", firstName: "Snake"}},
		},
		{
			name: "events before identify are filtered no_identifier, those after are pending",
			msgs: []string{
				`{"type":"track","event":"Product Viewed","messageId":"before","anonymousId":"anon-1","properties":{"product_id":"SKU-1"}}`,
				`{"type":"page","messageId":"before-page","anonymousId":"anon-1"}`,
				janeIdentify,
				`{"type":"track","event":"Product Viewed","messageId":"after","anonymousId":"anon-1","properties":{"product_id":"SKU-1"}}`,
			},
			want: map[string]contactWant{
				"before": {reason: signal.ReasonNoIdentifier}, "before-page": {reason: signal.ReasonNoIdentifier}, "after": jane,
			},
		},
		{
			name: "an unknown visitor is no_identifier",
			msgs: []string{`{"type":"track","event":"Order Completed","messageId":"m1","userId":"stranger",` + orderProps + `}`},
			want: map[string]contactWant{"m1": {reason: signal.ReasonNoIdentifier}},
		},
		{
			name: "an invalid email and no phone is invalid_email",
			msgs: []string{
				`{"type":"identify","messageId":"id-1","userId":"u1","traits":{"email":"not-an-address","first_name":"Ann"}}`,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"u1"}`,
			},
			want: map[string]contactWant{"m1": {reason: signal.ReasonInvalidEmail}},
		},
		{
			name: "an invalid email beside a phone is sent with the phone",
			msgs: []string{
				`{"type":"identify","messageId":"id-1","userId":"u1","traits":{"email":"not-an-address","phone":"+447700900123"}}`,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"u1"}`,
			},
			want: map[string]contactWant{"m1": {phone: "+447700900123"}},
		},
		{
			name: "no email at all is no_identifier",
			msgs: []string{
				`{"type":"identify","messageId":"id-1","userId":"u1","traits":{"first_name":"Ann"}}`,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"u1"}`,
			},
			want: map[string]contactWant{"m1": {reason: signal.ReasonNoIdentifier}},
		},
		{
			name: "a group's traits describe the company, not the visitor",
			msgs: []string{
				`{"type":"group","messageId":"g-1","userId":"u1","groupId":"acme","traits":{"email":"billing@acme.example","name":"Acme"}}`,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"u1"}`,
			},
			want: map[string]contactWant{"m1": {reason: signal.ReasonNoIdentifier}, "g-1": {reason: signal.ReasonUnsupportedType}},
		},
		{
			name: "another visitor's identify does not leak into this one",
			msgs: []string{
				janeIdentify,
				`{"type":"track","event":"Signed Up","messageId":"m1","anonymousId":"anon-other"}`,
			},
			want: map[string]contactWant{"m1": {reason: signal.ReasonNoIdentifier}},
		},
	}
	for _, tt := range tests {
		for _, mode := range []string{"one pass", "pass per message"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				b.install(t)
				if mode == "one pass" {
					b.send(t, tt.msgs...)
					b.process(t)
				} else {
					for _, m := range tt.msgs {
						b.send(t, m)
						b.process(t)
					}
				}
				for id, want := range tt.want {
					checkContact(t, b, id, want)
				}
			})
		}
	}
}

// TestEventsBeforeIdentifyStayFiltered: an event filtered for want of an
// identifier is not queued later when the visitor identifies.
func TestEventsBeforeIdentifyStayFiltered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.install(t)
	b.send(t, `{"type":"track","event":"Order Completed","messageId":"early","anonymousId":"anon-1",`+orderProps+`}`)
	b.process(t)
	le := b.row(t, "early")
	wantStatus(t, le, signal.StatusFiltered, signal.ReasonNoIdentifier)
	if le.ReasonText == "" {
		t.Fatal("no reason text for no_identifier")
	}
	b.send(t, janeIdentify, `{"type":"track","event":"Signed Up","messageId":"late","anonymousId":"anon-1"}`)
	b.process(t)
	wantStatus(t, b.row(t, "early"), signal.StatusFiltered, signal.ReasonNoIdentifier)
	claimed := b.claimAll(t, in.ID)
	if _, ok := claimed["early"]; ok || claimed["late"] == nil || len(claimed) != 1 {
		t.Fatalf("claimable deliveries %v, want only the one after identify", claimed)
	}
}

// TestPhone: phones are sent E.164, national numbers read with the region
// of the event's context.locale, else the integration's
// default_phone_region; an unreadable phone is left out and said on the
// live event without quoting it.
func TestPhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		traits   string // the identify's traits
		context  string // the track's context
		region   string // default_phone_region ("" for none)
		want     contactWant
		wantNote bool
	}{
		{"international", `{"email":"p@example.com","phone":"+44 7700 900123"}`, `{}`, "", contactWant{email: "p@example.com", phone: "+447700900123"}, false},
		{"international ignores the regions", `{"email":"p@example.com","phone":"+1 (415) 555-2671"}`, `{"locale":"en-GB"}`, "FR", contactWant{email: "p@example.com", phone: "+14155552671"}, false},
		{"GB national with locale en-GB", `{"email":"p@example.com","phone":"07700 900123"}`, `{"locale":"en-GB"}`, "", contactWant{email: "p@example.com", phone: "+447700900123"}, false},
		{"GB national with POSIX locale", `{"email":"p@example.com","phone":"07700 900123"}`, `{"locale":"en_GB.UTF-8"}`, "", contactWant{email: "p@example.com", phone: "+447700900123"}, false},
		{"US national with default region", `{"email":"p@example.com","phone":"(415) 555-2671"}`, `{}`, "US", contactWant{email: "p@example.com", phone: "+14155552671"}, false},
		{"default region in lower case", `{"email":"p@example.com","phone":"(415) 555-2671"}`, `{}`, "us", contactWant{email: "p@example.com", phone: "+14155552671"}, false},
		{"locale wins over default region", `{"email":"p@example.com","phone":"07700 900123"}`, `{"locale":"en-GB"}`, "US", contactWant{email: "p@example.com", phone: "+447700900123"}, false},
		{"locale without region falls back to default", `{"email":"p@example.com","phone":"07700 900123"}`, `{"locale":"fr"}`, "GB", contactWant{email: "p@example.com", phone: "+447700900123"}, false},
		{"en-US browser, GB shop: the default region reads it", `{"email":"p@example.com","phone":"07700 900789"}`, `{"locale":"en-US"}`, "GB", contactWant{email: "p@example.com", phone: "+447700900789"}, false},
		{"en-US browser, FR shop: the region where it is valid wins", `{"email":"p@example.com","phone":"06 12 34 56 78"}`, `{"locale":"en-US"}`, "FR", contactWant{email: "p@example.com", phone: "+33612345678"}, false},
		{"neither the locale's nor the default region reads it", `{"email":"p@example.com","phone":"07700 900789"}`, `{"locale":"en-US"}`, "US", contactWant{email: "p@example.com"}, true},
		{"phone only", `{"phone":"+447700900123","first_name":"Pho"}`, `{}`, "", contactWant{phone: "+447700900123", firstName: "Pho"}, false},
		{"national without any region", `{"email":"p@example.com","phone":"07700 900123"}`, `{}`, "", contactWant{email: "p@example.com"}, true},
		{"garbage", `{"email":"p@example.com","phone":"call me maybe"}`, `{"locale":"en-GB"}`, "GB", contactWant{email: "p@example.com"}, true},
		{"too short", `{"email":"p@example.com","phone":"+44 12"}`, `{}`, "", contactWant{email: "p@example.com"}, true},
		{"no email and garbage phone", `{"phone":"12345678901234567890"}`, `{}`, "GB", contactWant{reason: signal.ReasonNoIdentifier}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			in := b.install(t, func(in *signal.Integration) {
				if tt.region != "" {
					in.Config["default_phone_region"] = tt.region
				}
			})
			b.send(t, `{"type":"identify","messageId":"id-1","userId":"u1","traits":`+tt.traits+`}`,
				`{"type":"track","event":"Signed Up","messageId":"m1","userId":"u1","context":`+tt.context+`}`)
			b.process(t)
			checkContact(t, b, "m1", tt.want)
			le := b.row(t, "m1")
			if tt.wantNote != strings.Contains(le.Note, "phone") {
				t.Fatalf("note %q; want a note about the phone: %v", le.Note, tt.wantNote)
			}
			raw := traitPhone(t, tt.traits)
			for _, form := range []string{raw, strings.TrimSpace(raw), digits(raw)} {
				if tt.wantNote && len(form) >= 6 && (strings.Contains(le.Note, form) || strings.Contains(string(le.Payload), form)) {
					t.Fatalf("the unreadable phone %q was quoted: note %q, payload %s", raw, le.Note, le.Payload)
				}
			}
			if tt.want.reason == "" {
				if c := b.claimAll(t, in.ID)["m1"]; c == nil || c.ContactKey == "" {
					t.Fatalf("m1 is not queued with a contact key: %+v", c)
				}
			}
		})
	}
}

func traitPhone(t *testing.T, traits string) string {
	t.Helper()
	_, rest, ok := strings.Cut(traits, `"phone":"`)
	if !ok {
		t.Fatalf("no phone in %s", traits)
	}
	p, _, _ := strings.Cut(rest, `"`)
	return p
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestPhoneReadWhereItWasGiven: a national number given with a browser
// locale, valid there, stays readable on later events without one
// (server-side). (Ofcom's drama range, 07700 900xxx, is possible but not
// valid: a real mobile range here.)
func TestPhoneReadWhereItWasGiven(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.install(t)
	b.send(t, `{"type":"identify","messageId":"id-1","userId":"u1","context":{"locale":"en-GB"},"traits":{"phone":"07400 123456"}}`,
		`{"type":"track","event":"Signed Up","messageId":"m1","userId":"u1"}`)
	b.process(t)
	checkContact(t, b, "m1", contactWant{phone: "+447400123456"})
}

// TestPhoneKeptWhereOnlyPossible: a national number that the identify's
// locale reads as only possible (a French mobile under en-US: ten digits,
// no such American number) is kept as given, so a later event's locale
// reads it as what it is.
func TestPhoneKeptWhereOnlyPossible(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.install(t)
	b.send(t, `{"type":"identify","messageId":"id-1","userId":"u1","context":{"locale":"en-US"},"traits":{"phone":"06 12 34 56 78"}}`,
		`{"type":"track","event":"Signed Up","messageId":"m1","userId":"u1","context":{"locale":"fr-FR"}}`)
	b.process(t)
	checkContact(t, b, "m1", contactWant{phone: "+33612345678"})
}

// TestPhoneNote: the note names the regions tried, so a marketer sees which
// setting to change, and suggests default_phone_region when none was.
func TestPhoneNote(t *testing.T) {
	t.Parallel()
	if n := phoneNote([]string{"US", "GB"}); !strings.Contains(n, "US or GB") {
		t.Errorf("phoneNote(US, GB) = %q, want both regions named", n)
	}
	if n := phoneNote([]string{""}); !strings.Contains(n, "default_phone_region") {
		t.Errorf("phoneNote(none) = %q, want the setting named", n)
	}
}
