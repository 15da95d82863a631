package admin

import (
	"encoding/json"
	"sync"
	"testing"
)

// The integration page's curl install body, word for word.
const pageInstallBody = `{
    "name": "Omnisend",
    "variant": "default",
    "config": {
      "api_key": "AjWvksZpTG4JZBdc4xxxxxxxx"
    },
    "delivery_mode": "server_side"
  }`

const pageAPIKey = "AjWvksZpTG4JZBdc4xxxxxxxx"

func installBody(key string) string {
	return `{"name":"Omnisend","variant":"default","config":{"api_key":"` + key + `"},"delivery_mode":"server_side"}`
}

// install installs Omnisend with body and returns the answer.
func (b *testBundle) install(t *testing.T, body string) integrationView {
	t.Helper()
	var v integrationView
	if code := b.call(t, "POST", "/v1/admin/integration-catalog/omnisend/install", body, &v); code != 201 {
		t.Fatalf("install: %d", code)
	}
	return v
}

// patch sends a PATCH that must succeed and returns the answer.
func (b *testBundle) patch(t *testing.T, path, body string) integrationView {
	t.Helper()
	var v integrationView
	if code := b.call(t, "PATCH", path, body, &v); code != 200 {
		t.Fatalf("PATCH %s %s: %d", path, body, code)
	}
	return v
}

// get reads an integration.
func (b *testBundle) get(t *testing.T, path string) integrationView {
	t.Helper()
	var v integrationView
	if code := b.call(t, "GET", path, "", &v); code != 200 {
		t.Fatalf("GET %s: %d", path, code)
	}
	return v
}

// raw sends a request and returns the status and the answer as text.
func (b *testBundle) raw(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	var m json.RawMessage
	code := b.call(t, method, path, body, &m)
	return code, string(m)
}

// recNotifier records IntegrationChanged calls.
type recNotifier struct {
	mu  sync.Mutex
	ids []string
}

func (n *recNotifier) IntegrationChanged(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ids = append(n.ids, id)
}

func (n *recNotifier) count(id string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, v := range n.ids {
		if v == id {
			c++
		}
	}
	return c
}

// maskedKeys lists config keys without values, for failure messages.
func maskedKeys(cfg map[string]any) []string {
	var ks []string
	for k := range cfg {
		ks = append(ks, k)
	}
	return ks
}
