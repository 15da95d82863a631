// Package omnisend delivers events to Omnisend's Customer Events API
// (POST {base}/v5/events). It builds the payload, the request and reads
// the answer; retries, pacing and storage belong to package delivery.
//
// Nothing here logs. Errors never carry the API key, an email address or a
// phone number.
package omnisend

import (
	"strings"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// Catalog facts.
const (
	Key = "omnisend"
	// DefaultBaseURL is Omnisend's API; SIGNAL_OMNISEND_API_URL overrides it.
	DefaultBaseURL = "https://api.omnisend.com"
	// EventsPath is appended to the base URL under API version v5.
	EventsPath = "/v5/events"
	// DatedEventsPath is appended to the base URL under a dated API
	// version (api_version "2026-03-15").
	DatedEventsPath = "/api/events"
	// APIVersionV5 is the default api_version: the integration page's API.
	APIVersionV5 = "v5"
	// IntegrationName is sent as X-INTEGRATION-NAME.
	IntegrationName = "Datafly Signal"
	// RateLimitPerMinute is the store's request budget until Omnisend's
	// rate-limit headers say otherwise.
	RateLimitPerMinute = 400
	// Timeout is the per-request timeout the contract sets; the delivery
	// client applies it.
	Timeout = 10 * time.Second
)

// Config keys.
const (
	ConfigAPIKey             = "api_key"
	ConfigAPIVersion         = "api_version"
	ConfigDefaultPhoneRegion = integration.ConfigDefaultPhoneRegion
	ConfigDryRun             = signal.ConfigDryRun
)

// Options configure the vendor.
type Options struct {
	// BaseURL is Omnisend's API base, DefaultBaseURL if empty. Events go to
	// BaseURL + "/v5/events".
	BaseURL string
	// Version is Signal's version, sent as X-INTEGRATION-VERSION (the
	// header is left out if empty).
	Version string
}

// Vendor is Omnisend, an integration.Vendor.
type Vendor struct {
	base    string
	version string
	now     func() time.Time
}

var _ integration.Vendor = (*Vendor)(nil)

// New returns the Omnisend vendor.
func New(opts Options) *Vendor {
	base := strings.TrimRight(strings.TrimSpace(opts.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	return &Vendor{base: base, version: opts.Version, now: time.Now}
}

// Entry describes Omnisend for the catalog, after its integration page.
func (v *Vendor) Entry() integration.CatalogEntry {
	return integration.CatalogEntry{
		Key:           Key,
		Name:          "Omnisend",
		Description:   "Ecommerce-focused email and SMS marketing platform with automation workflows, segmentation, and product-aware campaigns.",
		Category:      "marketing_automation",
		CategoryLabel: "Marketing Automation",
		Status:        "alpha",
		Website:       "https://www.omnisend.com",
		ConfigFields: []integration.ConfigField{
			{
				Key:         ConfigAPIKey,
				Label:       "API key",
				Type:        "secret",
				Required:    true,
				Placeholder: "Paste the key exactly as Omnisend shows it",
				HelpText:    "Your Omnisend API key with Events write permission. Sent as the X-API-KEY header on every request.",
			},
			{
				Key:         ConfigDefaultPhoneRegion,
				Label:       "Default phone region",
				Type:        "string",
				Placeholder: "GB",
				HelpText:    "Region used to read phone numbers written without a country code when the visitor's locale names none, as a two-letter ISO 3166 code, e.g. GB.",
			},
			{
				Key:      ConfigDryRun,
				Label:    "Dry run",
				Type:     "boolean",
				HelpText: "Build payloads and show them in Live Events, but send nothing to Omnisend.",
			},
			{
				Key:         ConfigAPIVersion,
				Label:       "API version",
				Type:        "string",
				Placeholder: APIVersionV5,
				HelpText:    "v5 (default) sends to /v5/events with X-API-KEY; a dated version such as 2026-03-15 sends to Omnisend's dated API (/api/events, Omnisend-Version header). Switch when Omnisend retires v5; no reinstall needed.",
			},
			{
				Key:      ConfigSyncConsent,
				Label:    "Sync consent to contacts",
				Type:     "boolean",
				HelpText: "Off by default. When a Signed Up, Checkout Started or Order Completed event states the visitor's marketing consent, record it on the Omnisend contact: consent given subscribes email (and SMS when a phone was given) with the event's time, IP and user agent as proof; consent refused unsubscribes them. Signal cannot prove consent: your site must collect it lawfully.",
			},
		},
		Variants:           variants(),
		DeliveryModes:      []string{"server_side"},
		RateLimitPerMinute: RateLimitPerMinute,
		SetupSteps: []string{
			"In Omnisend, go to Store Settings > API keys, click Create API key and grant at least Events (write); copy it at once (Omnisend shows it only once).",
			"Install Omnisend here with that key (or with Dry run on, to see each payload in Live Events first).",
			"Send a test event: it checks the key and makes \"signal test event\" appear in Omnisend's automation triggers.",
			"Build automations on placed order, started checkout, added to cart, product viewed and signed up.",
		},
	}
}
