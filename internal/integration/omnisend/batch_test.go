package omnisend

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

func TestBatchRequests(t *testing.T) {
	t.Parallel()
	v := New(Options{BaseURL: "https://omni.test/"})
	in := &signal.Integration{Config: map[string]any{"api_key": testAPIKey}}
	items := []json.RawMessage{json.RawMessage(`{"eventID":"e1","eventName":"placed order"}`), json.RawMessage(`{"eventID":"e2"}`)}
	req, err := v.BatchRequest(context.Background(), in, items)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	if req.Method != "POST" || req.URL.String() != "https://omni.test/v5/batches" || req.Header.Get("X-API-KEY") != testAPIKey ||
		req.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("create: %s %s %v", req.Method, req.URL, req.Header)
	}
	assertSameJSON(t, body, []byte(`{"method":"POST","endpoint":"events","items":[{"eventID":"e1","eventName":"placed order"},{"eventID":"e2"}],"origin":"api"}`))

	status, err := v.BatchStatusRequest(context.Background(), in, "b/1")
	if err != nil {
		t.Fatal(err)
	}
	itemsReq, err := v.BatchItemsRequest(context.Background(), in, "b1")
	if err != nil {
		t.Fatal(err)
	}
	for r, want := range map[*http.Request]string{status: "https://omni.test/v5/batches/b%2F1", itemsReq: "https://omni.test/v5/batches/b1/items"} {
		if r.Method != "GET" || r.URL.String() != want || r.Header.Get("X-API-KEY") != testAPIKey || r.Body != nil {
			t.Errorf("%s %s, want GET %s with the key and no body", r.Method, r.URL, want)
		}
	}

	tooMany := make([]json.RawMessage, MaxBatchItems+1)
	if _, err := v.BatchRequest(context.Background(), in, tooMany); err == nil {
		t.Error("a batch over 100 items was built")
	}
	if _, err := v.BatchRequest(context.Background(), in, nil); err == nil {
		t.Error("an empty batch was built")
	}
	_, err = v.BatchStatusRequest(context.Background(), &signal.Integration{}, "b1")
	if signal.ErrorField(err) != "config.api_key" || strings.Contains(err.Error(), testAPIKey) {
		t.Errorf("no key: %v", err)
	}
}

func TestParseBatch(t *testing.T) {
	t.Parallel()
	v := New(Options{})
	id, err := v.ParseBatchCreated(201, []byte(`{"batchID":"b-42","totalCount":2}`))
	if err != nil || id != "b-42" {
		t.Fatalf("created: %q %v", id, err)
	}
	for _, bad := range []struct {
		status int
		body   string
	}{{201, `{"totalCount":2}`}, {200, `nope`}, {400, `{"batchID":"b"}`}, {429, ``}} {
		if _, err := v.ParseBatchCreated(bad.status, []byte(bad.body)); err == nil {
			t.Errorf("created %d %s: no error", bad.status, bad.body)
		}
	}

	states := []struct {
		body string
		want integration.BatchStatus
	}{
		{`{"status":"pending","totalCount":3}`, integration.BatchStatus{Total: 3}},
		{`{"status":"inProgress","totalCount":3,"finishedCount":1}`, integration.BatchStatus{Total: 3, Finished: 1}},
		{`{"status":"finished","totalCount":3,"finishedCount":3,"errorsCount":1}`, integration.BatchStatus{Done: true, Total: 3, Finished: 3, Errors: 1}},
		{`{"status":"stopped","totalCount":3,"finishedCount":2,"errorsCount":2}`, integration.BatchStatus{Done: true, Stopped: true, Total: 3, Finished: 2, Errors: 2}},
	}
	for _, s := range states {
		got, err := v.ParseBatchStatus(200, []byte(s.body))
		if err != nil || got != s.want {
			t.Errorf("status %s = %+v %v, want %+v", s.body, got, err, s.want)
		}
	}
	if _, err := v.ParseBatchStatus(404, []byte(`{}`)); err == nil {
		t.Error("status 404: no error")
	}

	items := []struct {
		name string
		body string
		want []integration.BatchItemResult
	}{
		{"v5 arrays", `{"responses":[{"itemID":"i1","status":"finished","responseCode":200,"request":{"eventID":"e1"},"response":{"eventID":"e1"}}],
			"errors":[{"itemID":"i2","status":"finished","responseCode":400,"request":{"eventID":"e2"},"response":"eventName is required"}]}`,
			[]integration.BatchItemResult{{EventID: "e2", Finished: true, Status: 400, Response: "eventName is required"},
				{EventID: "e1", Finished: true, Status: 200, Response: `{"eventID":"e1"}`}}},
		{"v3 items", `{"items":[{"status":"pending","request":{"eventID":"e3"}},{"status":"finished","responseCode":202,"request":{"eventID":"e4"}}]}`,
			[]integration.BatchItemResult{{EventID: "e3"}, {EventID: "e4", Finished: true, Status: 202}}},
		{"bare array, unmatched skipped", `[{"responseCode":200,"request":{"eventID":"e5"}},{"responseCode":200,"request":{}},{"responseCode":200}]`,
			[]integration.BatchItemResult{{EventID: "e5", Finished: true, Status: 200}}},
	}
	for _, it := range items {
		got, err := v.ParseBatchItems(200, []byte(it.body))
		if err != nil || len(got) != len(it.want) {
			t.Errorf("%s: %+v %v, want %+v", it.name, got, err, it.want)
			continue
		}
		for i := range got {
			if got[i] != it.want[i] {
				t.Errorf("%s: item %d = %+v, want %+v", it.name, i, got[i], it.want[i])
			}
		}
	}
	if _, err := v.ParseBatchItems(200, []byte(`"x"`)); err == nil {
		t.Error("items: unreadable answer without error")
	}
}
