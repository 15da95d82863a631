// Package backfill reads historical events for an integration's backfill
// (POST /v1/admin/integrations/{id}/backfill): NDJSON, one Segment message
// per line, gzip allowed.
package backfill

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// Limits bound what one backfill request may hold, after decompression
// (a small gzip body can expand a thousandfold).
type Limits struct {
	MaxBytes int64 // the whole body, decompressed
	MaxLine  int   // one line
	MaxLines int   // accepted and rejected lines together
}

// DefaultLimits fit a few months of a store's orders in one request while
// keeping the request's memory bounded: 64 MiB decompressed, 32 KiB a line,
// 100,000 lines. A larger history is sent in several requests.
var DefaultLimits = Limits{MaxBytes: 64 << 20, MaxLine: 32 << 10, MaxLines: 100_000}

// Item is one accepted line.
type Item struct {
	Line      int // 1-based
	MessageID string
	Type      string
	Event     string
	Timestamp time.Time
	Message   json.RawMessage
}

// Rejection is a line refused alone, as the API lists it.
type Rejection struct {
	Line    int         `json:"line"`
	Code    signal.Code `json:"code"`
	Message string      `json:"message"`
}

// ErrTooLarge is a body over Limits: the whole request is refused.
var ErrTooLarge = errors.New("backfill body over its limit")

// Decode reads body (gzip when it starts with gzip's magic bytes) and
// returns the accepted lines and the refused ones. Blank lines are skipped
// but counted. A body over the limits or an unreadable gzip stream is an
// error: nothing is accepted then.
func Decode(body io.Reader, lim Limits) ([]Item, []Rejection, error) {
	br := bufio.NewReader(body)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, signal.Errorf(signal.EINVALID, "the body looks gzipped but cannot be read: %v", err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	// One byte over the limit tells "at the limit" from "over it".
	cr := &countingReader{r: io.LimitReader(br, lim.MaxBytes+1)}
	r := bufio.NewReaderSize(cr, 64<<10)
	var (
		items    []Item
		rejected []Rejection
	)
	for line := 1; ; line++ {
		raw, long, eof, err := readLine(r, lim.MaxLine)
		if err != nil {
			return nil, nil, signal.Errorf(signal.EINVALID, "the body cannot be read: %v", err)
		}
		if cr.n > lim.MaxBytes {
			return nil, nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, lim.MaxBytes)
		}
		if long {
			rejected = append(rejected, Rejection{Line: line, Code: signal.EINVALID, Message: fmt.Sprintf("line is longer than %d bytes", lim.MaxLine)})
		} else if len(bytes.TrimSpace(raw)) > 0 {
			it, rej := decodeLine(line, raw)
			if rej != nil {
				rejected = append(rejected, *rej)
			} else {
				items = append(items, it)
			}
		}
		if len(items)+len(rejected) > lim.MaxLines {
			return nil, nil, fmt.Errorf("%w: more than %d lines", ErrTooLarge, lim.MaxLines)
		}
		if eof {
			return items, rejected, nil
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readLine returns the next line without its newline, or long when it is
// over max bytes (then skipped to its end, never held whole); eof at the
// body's end.
func readLine(r *bufio.Reader, max int) (line []byte, long, eof bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !long {
			if len(line)+len(chunk) > max+1 {
				long, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			eof = true
		case err != nil:
			return nil, false, false, err
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) > max {
			return nil, true, eof, nil
		}
		return line, long, eof, nil
	}
}

// decodeLine checks one line is a Segment message a backfill can send: a
// track (with its event), identify or page, with its own timestamp (a
// history without dates would land as today) and a userId or anonymousId.
func decodeLine(line int, raw []byte) (Item, *Rejection) {
	rej := func(format string, args ...any) (Item, *Rejection) {
		return Item{}, &Rejection{Line: line, Code: signal.EINVALID, Message: fmt.Sprintf(format, args...)}
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
		return rej("line is not a JSON object")
	}
	var m signal.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		return rej("line is not a Segment message: %v", err)
	}
	switch m.Type {
	case signal.TypeTrack:
		if m.Event == "" {
			return rej("a track message needs its event name (event)")
		}
	case signal.TypeIdentify, signal.TypePage:
	case "":
		return rej("type is required: track, identify or page")
	default:
		return rej("type %q cannot be backfilled: only track, identify or page", m.Type)
	}
	if m.UserID == "" && m.AnonymousID == "" {
		return rej("userId or anonymousId is required")
	}
	if m.Timestamp == "" {
		return rej("timestamp is required: a historical event keeps its own time")
	}
	ts, err := time.Parse(time.RFC3339Nano, m.Timestamp)
	if err != nil {
		return rej("timestamp must be an RFC 3339 date-time, e.g. 2026-03-01T10:00:00Z")
	}
	ev := m.Event
	if m.Type == signal.TypePage {
		ev = m.Name
	}
	return Item{Line: line, MessageID: string(m.MessageID), Type: m.Type, Event: ev, Timestamp: ts.UTC(), Message: json.RawMessage(raw)}, nil
}
