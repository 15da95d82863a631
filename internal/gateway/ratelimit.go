package gateway

import (
	"container/list"
	"encoding/json"
	"hash/maphash"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/signalhq/signal/internal/jsonscan"
)

// maxSources bounds each per-source table (client IPs, anonymous ids):
// least recently seen sources are forgotten first. An entry is a 64-bit
// hash, a token bucket and a list element, about 200 bytes, so a table
// holds at most about 10 MB whatever the sources' ids.
const maxSources = 50000

// sourceShare is a source's share of its pipeline's rate: each client IP
// and each anonymousId may use at most a quarter of RATE_LIMIT_RPS, so one
// client holding the public key cannot take all of it.
const sourceShare = 4

// limiter is a token bucket per pipeline, per client IP and per
// anonymousId.
type limiter struct {
	rps  float64
	seed maphash.Seed

	mu        sync.Mutex
	pipelines map[string]*rate.Limiter // one per pipeline: bounded by the pipelines that exist
	ips, anon *sourceTable
}

func newLimiter(rps float64) *limiter {
	src := rps / sourceShare
	return &limiter{rps: rps, seed: maphash.MakeSeed(), pipelines: map[string]*rate.Limiter{},
		ips: newSourceTable(src, maxSources), anon: newSourceTable(src, maxSources)}
}

// sources are who a request comes from, for the per-source limits.
type sources struct {
	ip          [16]byte
	hasIP       bool
	anonymousID []byte // nil: not limited by it
}

// allow takes one token from each bucket of the request, or none: a
// request refused by any bucket spends nothing from the others, so a
// hammering source's refused requests cost its pipeline nothing.
// sourcesOf is called only when limits are on.
func (l *limiter) allow(pipelineID string, now time.Time, sourcesOf func() sources) (time.Duration, bool) {
	if l.rps <= 0 {
		return 0, true
	}
	src := sourcesOf()
	l.mu.Lock()
	pl, ok := l.pipelines[pipelineID]
	if !ok {
		pl = rate.NewLimiter(rate.Limit(l.rps), burst(l.rps))
		l.pipelines[pipelineID] = pl
	}
	var bucketsBuf [3]*rate.Limiter
	buckets := append(bucketsBuf[:0], pl)
	if src.hasIP {
		buckets = append(buckets, l.ips.get(l.key(pipelineID, src.ip[:])))
	}
	if src.anonymousID != nil {
		buckets = append(buckets, l.anon.get(l.key(pipelineID, src.anonymousID)))
	}
	l.mu.Unlock()
	var wait time.Duration
	var resBuf [3]*rate.Reservation
	reservations := resBuf[:0]
	for _, b := range buckets {
		res := b.ReserveN(now, 1)
		reservations = append(reservations, res)
		if !res.OK() {
			wait = max(wait, time.Second)
		} else if d := res.DelayFrom(now); d > 0 {
			wait = max(wait, d)
		}
	}
	if wait > 0 {
		for _, res := range reservations {
			res.CancelAt(now)
		}
		return max(wait, time.Second), false
	}
	return 0, true
}

func burst(rps float64) int { return int(rps*2) + 1 }

// key hashes a source id with its pipeline: the tables keep fixed-size
// keys whatever the id's length.
func (l *limiter) key(pipelineID string, id []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(l.seed)
	h.WriteString(pipelineID)
	h.WriteByte(0)
	h.Write(id)
	return h.Sum64()
}

// sourceTable is an LRU of token buckets, bounded by count.
type sourceTable struct {
	rps   float64
	max   int
	m     map[uint64]*list.Element
	order *list.List // front: most recently used
}

type sourceEntry struct {
	key uint64
	lim *rate.Limiter
}

func newSourceTable(rps float64, max int) *sourceTable {
	return &sourceTable{rps: rps, max: max, m: map[uint64]*list.Element{}, order: list.New()}
}

// get returns the source's bucket, creating it (and forgetting the least
// recently used one when full). Callers hold the limiter's lock.
func (t *sourceTable) get(key uint64) *rate.Limiter {
	if e, ok := t.m[key]; ok {
		t.order.MoveToFront(e)
		return e.Value.(*sourceEntry).lim
	}
	if t.order.Len() >= t.max {
		old := t.order.Back()
		t.order.Remove(old)
		delete(t.m, old.Value.(*sourceEntry).key)
	}
	lim := rate.NewLimiter(rate.Limit(t.rps), burst(t.rps))
	t.m[key] = t.order.PushFront(&sourceEntry{key: key, lim: lim})
	return lim
}

// sourcesOf names who sent a request: the client IP (see clientIP; an IPv6
// client by its /64, which one host usually holds whole) and the first message's
// anonymousId, else the _dfid cookie. A signed request comes from a
// backend that proved it holds the signing secret: one IP sending every
// customer's events, so only the pipeline's limit applies to it.
func sourcesOf(r *http.Request, rt route, raws []json.RawMessage, proxies []netip.Prefix) sources {
	if rt.signed {
		return sources{}
	}
	var src sources
	if a, ok := clientIP(r, proxies); ok {
		if a.Is6() {
			p, _ := a.Prefix(64)
			a = p.Addr()
		}
		src.ip, src.hasIP = a.As16(), true
	}
	if len(raws) > 0 {
		if v, found, ok := jsonscan.MemberValue(raws[0], "anonymousId"); ok && found && !isNull(v) {
			src.anonymousID = v
		}
	}
	if src.anonymousID == nil {
		if c, err := r.Cookie("_dfid"); err == nil && c.Value != "" {
			src.anonymousID = []byte(`"` + c.Value + `"`) // as the JSON string it stands for
		}
	}
	return src
}
