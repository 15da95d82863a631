package main

import (
	"strings"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/integration/klaviyo"
	"github.com/signalhq/signal/internal/integration/omnisend"
)

// vendorSpec is one vendor this binary delivers to: registered explicitly
// here, never by an import side effect. Its API base URL comes from
// SIGNAL_<KEY>_API_URL (so tests and proxies can point it elsewhere).
type vendorSpec struct {
	key        string
	defaultURL string
	newFunc    func(baseURL, version string) integration.Vendor
}

var vendorSpecs = []vendorSpec{
	{omnisend.Key, omnisend.DefaultBaseURL, func(base, version string) integration.Vendor {
		return omnisend.New(omnisend.Options{BaseURL: base, Version: version})
	}},
	{klaviyo.Key, klaviyo.DefaultBaseURL, func(base, version string) integration.Vendor {
		return klaviyo.New(klaviyo.Options{BaseURL: base, Version: version})
	}},
}

// urlEnv is the environment variable of a vendor's API base URL.
func (s vendorSpec) urlEnv() string { return "SIGNAL_" + strings.ToUpper(s.key) + "_API_URL" }

// newRegistry registers every vendor with the configured base URLs.
func newRegistry(urls map[string]string, version string) *integration.Registry {
	r := integration.NewRegistry()
	for _, s := range vendorSpecs {
		r.Register(s.newFunc(urls[s.key], version))
	}
	return r
}
