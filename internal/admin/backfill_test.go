package admin

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type backfillAnswer struct {
	ID       string `json:"id"`
	Accepted int    `json:"accepted"`
	Rejected []struct {
		Line    int    `json:"line"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"rejected"`
}

const (
	orderLine = `{"type":"track","event":"Order Completed","userId":"u1","timestamp":"2026-01-02T03:04:05Z","properties":{"order_id":"o-1"}}`
	noTime    = `{"type":"track","event":"Order Completed","userId":"u1"}`
)

func gzipped(s string) string {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(s))
	zw.Close()
	return buf.String()
}

func TestBackfillRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.install(t, pageInstallBody)
	path := "/v1/admin/integrations/" + in.ID + "/backfill"

	tests := []struct {
		name         string
		path, body   string
		status       int
		accepted     int
		rejectedLine []int
		message      string
	}{
		{name: "bad line refused alone", path: path, body: orderLine + "\n" + noTime + "\n\n" + orderLine + "\n", status: 202, accepted: 2, rejectedLine: []int{2}},
		{name: "gzip", path: path, body: gzipped(orderLine + "\n" + orderLine), status: 202, accepted: 2},
		{name: "empty body", path: path, body: "", status: 400, message: "no line"},
		{name: "only bad lines", path: path, body: "not json\n", status: 400, message: "no line"},
		{name: "broken gzip", path: path, body: "\x1f\x8bnot gzip at all", status: 400, message: "gzipped"},
		{name: "unknown integration", path: "/v1/admin/integrations/int_nope/backfill", body: orderLine, status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, raw := b.raw(t, "POST", tc.path, tc.body)
			if code != tc.status || !strings.Contains(raw, tc.message) {
				t.Fatalf("POST = %d %s, want %d naming %q", code, raw, tc.status, tc.message)
			}
			if code != 202 {
				return
			}
			var ans backfillAnswer
			if code := b.call(t, "POST", tc.path, tc.body, &ans); code != 202 || ans.Accepted != tc.accepted || len(ans.Rejected) != len(tc.rejectedLine) || !strings.HasPrefix(ans.ID, "bf_") {
				t.Fatalf("POST = %d %+v", code, ans)
			}
			for i, l := range tc.rejectedLine {
				if ans.Rejected[i].Line != l || !strings.Contains(ans.Rejected[i].Message, "timestamp") {
					t.Fatalf("rejected = %+v, want line %d naming the timestamp", ans.Rejected, l)
				}
			}
			var got backfillView
			if code := b.call(t, "GET", path+"/"+ans.ID, "", &got); code != 200 || got.Status != "running" || got.Accepted != tc.accepted || got.Pending != tc.accepted {
				t.Fatalf("GET = %d %+v", code, got)
			}
		})
	}
	if code := b.call(t, "GET", path+"/bf_nope", "", nil); code != 404 {
		t.Fatalf("GET unknown backfill = %d, want 404", code)
	}
	var list page[backfillView]
	if code := b.call(t, "GET", path, "", &list); code != 200 || len(list.Data) != 4 {
		t.Fatalf("list = %d, %d backfills; want 4", code, len(list.Data))
	}
	rows, _ := b.auditLog(t)
	n := 0
	for _, r := range rows {
		if r.Action == auditIntegrationBackfill && r.Target.ID == in.ID {
			n++
		}
	}
	if n != 4 {
		t.Fatalf("%d integration.backfill audit entries, want 4", n)
	}
}

// TestBackfillOneUploadAtATime: while one backfill's body is being read and
// stored, a second upload is refused with 429 and a message saying why; it
// is taken once the first is accepted.
func TestBackfillOneUploadAtATime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.install(t, pageInstallBody)
	path := "/v1/admin/integrations/" + in.ID + "/backfill"
	body := &gatedBody{reading: make(chan struct{}), release: make(chan struct{}), r: strings.NewReader(orderLine + "\n")}
	req := httptest.NewRequest("POST", path, body).WithContext(t.Context())
	req.SetPathValue("id", in.ID)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.api.handleCreateBackfill(rec, req)
	}()
	<-body.reading // the handler reads the first body: it holds the intake
	code, raw := b.raw(t, "POST", path, orderLine)
	if code != http.StatusTooManyRequests || !strings.Contains(raw, "another backfill") {
		t.Fatalf("second upload = %d %s, want 429 naming the upload in progress", code, raw)
	}
	close(body.release)
	<-done
	if rec.Code != http.StatusAccepted {
		t.Fatalf("first upload = %d %s, want 202", rec.Code, rec.Body)
	}
	if code, raw := b.raw(t, "POST", path, orderLine); code != http.StatusAccepted {
		t.Fatalf("upload after the first = %d %s, want 202", code, raw)
	}
}

// gatedBody signals its first Read, then waits for release.
type gatedBody struct {
	reading, release chan struct{}
	started          bool
	r                io.Reader
}

func (g *gatedBody) Read(p []byte) (int, error) {
	if !g.started {
		g.started = true
		close(g.reading)
		<-g.release
	}
	return g.r.Read(p)
}

// TestBackfillListPages: the list answers the contract's list shape, paged
// by cursor, newest first.
func TestBackfillListPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.install(t, pageInstallBody)
	path := "/v1/admin/integrations/" + in.ID + "/backfill"
	var ids []string
	for range 3 {
		var ans backfillAnswer
		if code := b.call(t, "POST", path, orderLine, &ans); code != 202 {
			t.Fatalf("POST = %d", code)
		}
		ids = append(ids, ans.ID)
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		var pg page[backfillView]
		if code := b.call(t, "GET", path+"?limit=2&cursor="+cursor, "", &pg); code != 200 || len(pg.Data) == 0 || pages > 2 {
			t.Fatalf("page %d = %d %+v", pages, code, pg)
		}
		for _, v := range pg.Data {
			got = append(got, v.ID)
		}
		if !pg.HasMore {
			break
		}
		cursor = pg.NextCursor
	}
	if len(got) != 3 {
		t.Fatalf("paged through %v, want the 3 backfills %v", got, ids)
	}
	seen := map[string]bool{}
	for _, id := range got {
		seen[id] = true
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("paged through %v, missing %s", got, id)
		}
	}
}
