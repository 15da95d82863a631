package omnisend_test

import (
	"testing"

	"github.com/signalhq/signal/internal/integration/integrationtest"
	"github.com/signalhq/signal/internal/integration/omnisend"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	integrationtest.Run(t, integrationtest.Harness{
		Vendor: omnisend.New(omnisend.Options{BaseURL: "http://127.0.0.1:1"}),
		Config: func(key string) map[string]any { return map[string]any{"api_key": key} },
		Golden: "testdata/golden",
	})
}
