package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// bpJSON is the blueprint as the API writes it. Else may be a string or a
// list; it is read as raw JSON and shown comma-separated.
type bpJSON struct {
	Version  int                    `json:"version"`
	Defaults map[string]any         `json:"defaults"`
	Events   map[string]bpEventJSON `json:"events"`
}

type bpEventJSON struct {
	VendorEventName string          `json:"vendor_event_name"`
	Enabled         bool            `json:"enabled"`
	Mappings        []bpMappingJSON `json:"mappings,omitempty"`
	Priority        string          `json:"priority,omitempty"`
	MaxAge          string          `json:"max_age,omitempty"`
}

type bpMappingJSON struct {
	Source string          `json:"source"`
	Else   json.RawMessage `json:"else,omitempty"`
	Target string          `json:"target"`
}

// bpEvent is one row of the editor.
type bpEvent struct {
	Name     string
	Enabled  bool
	Vendor   string
	Priority string
	MaxAge   string
	Mappings []bpMapping
	Err      string
}

type bpMapping struct {
	Source, Target, Else string
	Err                  string
}

type blueprintPage struct {
	In       integrationJSON
	Version  int
	Defaults string
	Events   []bpEvent
	NewEvent string
	Sample   string
	Preview  *previewResult
	PrevErr  string
	// Versions are the saved versions, newest first (VersionsErr when
	// they could not be read).
	Versions    []versionJSON
	VersionsErr string
}

type previewResult struct {
	Status          string          `json:"status"`
	Reason          string          `json:"reason"`
	ReasonText      string          `json:"reason_text"`
	VendorEventName string          `json:"vendor_event_name"`
	Payload         json.RawMessage `json:"payload"`
}

const sampleEvent = `{
  "type": "track",
  "event": "Order Completed",
  "userId": "user_123",
  "context": {"traits": {"email": "jane@example.com", "first_name": "Jane"}},
  "properties": {"order_id": "ORD-1001", "revenue": 59.9, "currency": "EUR", "coupon": "WELCOME10"}
}`

func elseText(raw json.RawMessage) string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one
	}
	var many []string
	json.Unmarshal(raw, &many)
	return strings.Join(many, ", ")
}

// fromJSON turns the API's blueprint into editor rows, sorted by name, each
// with one empty mapping row to fill in without JavaScript.
func fromJSON(bp bpJSON) []bpEvent {
	var evs []bpEvent
	for name, e := range bp.Events {
		ev := bpEvent{Name: name, Enabled: e.Enabled, Vendor: e.VendorEventName, Priority: e.Priority, MaxAge: e.MaxAge}
		for _, m := range e.Mappings {
			ev.Mappings = append(ev.Mappings, bpMapping{Source: m.Source, Target: m.Target, Else: elseText(m.Else)})
		}
		ev.Mappings = append(ev.Mappings, bpMapping{})
		evs = append(evs, ev)
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].Name < evs[j].Name })
	return evs
}

// fromForm reads the editor's rows back from a posted form.
func fromForm(f url.Values) []bpEvent {
	var evs []bpEvent
	for i := 0; ; i++ {
		p := "ev." + strconv.Itoa(i) + "."
		name, ok := f[p+"name"]
		if !ok {
			return evs
		}
		ev := bpEvent{Name: strings.TrimSpace(name[0]), Enabled: f.Get(p+"enabled") == "on", Vendor: f.Get(p + "vendor"),
			Priority: f.Get(p + "priority"), MaxAge: strings.TrimSpace(f.Get(p + "max_age"))}
		for j := 0; ; j++ {
			mp := p + "m." + strconv.Itoa(j) + "."
			if _, ok := f[mp+"source"]; !ok {
				break
			}
			ev.Mappings = append(ev.Mappings, bpMapping{Source: strings.TrimSpace(f.Get(mp + "source")),
				Target: strings.TrimSpace(f.Get(mp + "target")), Else: f.Get(mp + "else")})
		}
		evs = append(evs, ev)
	}
}

// toJSON is the blueprint the rows describe; empty mapping rows are left out.
func toJSON(version int, defaults string, evs []bpEvent) bpJSON {
	bp := bpJSON{Version: version, Defaults: map[string]any{"action": defaults}, Events: map[string]bpEventJSON{}}
	for _, ev := range evs {
		e := bpEventJSON{VendorEventName: ev.Vendor, Enabled: ev.Enabled, Priority: ev.Priority, MaxAge: ev.MaxAge}
		for _, m := range ev.Mappings {
			if m.Source == "" && m.Target == "" && strings.TrimSpace(m.Else) == "" {
				continue
			}
			jm := bpMappingJSON{Source: m.Source, Target: m.Target}
			var alts []string
			for _, a := range strings.Split(m.Else, ",") {
				if a = strings.TrimSpace(a); a != "" {
					alts = append(alts, a)
				}
			}
			if len(alts) > 0 {
				jm.Else, _ = json.Marshal(alts)
			}
			e.Mappings = append(e.Mappings, jm)
		}
		bp.Events[ev.Name] = e
	}
	return bp
}

var mappingIndex = regexp.MustCompile(`^\.mappings\[(\d+)\]`)

// placeError puts the API's error on the row its path names:
// events.<name>… or events["<name>"]…, with a mapping index when given.
func placeError(evs []bpEvent, field, msg string) bool {
	best, rest := -1, ""
	for i, ev := range evs {
		for _, pre := range []string{"events." + ev.Name, `events["` + ev.Name + `"]`, "events[" + strconv.Quote(ev.Name) + "]"} {
			if strings.HasPrefix(field, pre) && (len(field) == len(pre) || field[len(pre)] == '.' || field[len(pre)] == '[') {
				if best < 0 || len(ev.Name) > len(evs[best].Name) {
					best, rest = i, field[len(pre):]
				}
			}
		}
	}
	if best < 0 {
		return false
	}
	text := strings.TrimPrefix(rest, ".")
	if text == "" {
		text = "this event"
	}
	evs[best].Err = text + ": " + msg
	if m := mappingIndex.FindStringSubmatch(rest); m != nil {
		// Empty rows are not sent, so count only the filled ones.
		n, _ := strconv.Atoi(m[1])
		for j, mp := range evs[best].Mappings {
			if mp.Source == "" && mp.Target == "" && strings.TrimSpace(mp.Else) == "" {
				continue
			}
			if n == 0 {
				evs[best].Mappings[j].Err = strings.TrimPrefix(rest[len(m[0]):], ".") + ": " + msg
				break
			}
			n--
		}
	}
	return true
}

func (s *server) handleBlueprint(c *pageCtx) {
	p, ok := s.loadIntegration(c)
	if !ok {
		return
	}
	var bp bpJSON
	if err := c.get(s, integrationPath(c)+"/blueprint", &bp); err != nil {
		s.errorPage(c.w, c.v, err.Status, "Blueprint not available", err.Message)
		return
	}
	action, _ := bp.Defaults["action"].(string)
	s.showBlueprint(c, &blueprintPage{In: p.In, Version: bp.Version, Defaults: action, Events: fromJSON(bp), Sample: sampleEvent}, http.StatusOK)
}

func (s *server) showBlueprint(c *pageCtx, bp *blueprintPage, status int) {
	s.loadVersions(c, bp)
	c.v.Title, c.v.Nav, c.v.Page = "Blueprint: "+bp.In.Name, "integrations", bp
	s.render(c.w, status, "blueprint", c.v)
}

// handleSaveBlueprint serves every button of the editor's one form: save,
// preview, add an event, add or remove a mapping row. Without JavaScript
// each answers with the editor again, unsaved edits kept.
func (s *server) handleSaveBlueprint(c *pageCtx) {
	p, ok := s.loadIntegration(c)
	if !ok {
		return
	}
	f := c.r.PostForm
	version, _ := strconv.Atoi(f.Get("version"))
	bp := &blueprintPage{In: p.In, Version: version, Defaults: f.Get("defaults_action"), Events: fromForm(f), Sample: f.Get("sample")}
	action := f.Get("action")
	switch {
	case action == "add":
		name := strings.TrimSpace(f.Get("new_event"))
		if name == "" {
			c.v.FlashErr = "Type the event's name (as your site sends it) to add it."
		} else {
			bp.Events = append(bp.Events, bpEvent{Name: name, Enabled: true, Vendor: strings.ToLower(name), Mappings: []bpMapping{{}}})
			c.v.Flash = "Event " + strconv.Quote(name) + " added. Save the blueprint to keep it."
		}
	case strings.HasPrefix(action, "addmap:"):
		if i, err := strconv.Atoi(strings.TrimPrefix(action, "addmap:")); err == nil && i >= 0 && i < len(bp.Events) {
			bp.Events[i].Mappings = append(bp.Events[i].Mappings, bpMapping{})
		}
	case strings.HasPrefix(action, "remove:"):
		var i, j int
		if _, err := fmt.Sscanf(action, "remove:%d:%d", &i, &j); err == nil && i >= 0 && i < len(bp.Events) && j >= 0 && j < len(bp.Events[i].Mappings) {
			bp.Events[i].Mappings = append(bp.Events[i].Mappings[:j], bp.Events[i].Mappings[j+1:]...)
		}
	case action == "preview":
		s.preview(c, bp)
		return
	default:
		res := c.send(s, http.MethodPut, integrationPath(c)+"/blueprint", toJSON(version, bp.Defaults, bp.Events))
		if res.err == nil {
			redirect(c.w, c.r, c.r.URL.Path, "Blueprint saved."+warningsText(res))
			return
		}
		c.v.FlashErr = "Not saved: " + res.err.Message
		if placeError(bp.Events, res.err.Field, res.err.Message) {
			c.v.FlashErr = "Not saved: fix the event marked below."
		}
		s.showBlueprint(c, bp, res.err.Status)
		return
	}
	s.showBlueprint(c, bp, http.StatusOK)
}

// preview asks the API what the processor would send for the sample event
// under the unsaved blueprint. blueprint.js asks for JSON; a plain form
// post gets the editor with the answer in its preview panel.
func (s *server) preview(c *pageCtx, bp *blueprintPage) {
	wantJSON := strings.Contains(c.r.Header.Get("Accept"), "application/json")
	var ev json.RawMessage
	status := http.StatusOK
	if err := json.Unmarshal([]byte(bp.Sample), &ev); err != nil {
		bp.PrevErr, status = "The sample event is not valid JSON: "+err.Error(), http.StatusBadRequest
	} else {
		res := c.send(s, http.MethodPost, integrationPath(c)+"/blueprint/preview",
			map[string]any{"event": ev, "blueprint": toJSON(bp.Version, bp.Defaults, bp.Events)})
		var pr previewResult
		switch {
		case res.err != nil:
			bp.PrevErr, status = res.err.Message, res.err.Status
			if res.err.Field != "" && !strings.Contains(res.err.Message, res.err.Field) {
				bp.PrevErr = res.err.Field + ": " + res.err.Message
			}
		case res.decode(&pr) != nil:
			bp.PrevErr, status = "The preview's answer could not be read.", http.StatusBadGateway
		default:
			bp.Preview = &pr
		}
	}
	if wantJSON {
		w := c.w
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		out := map[string]any{"error": bp.PrevErr}
		if bp.Preview != nil {
			out = map[string]any{"status": bp.Preview.Status, "reason_text": bp.Preview.ReasonText,
				"vendor_event_name": bp.Preview.VendorEventName, "payload": prettyJSON(bp.Preview.Payload)}
		}
		json.NewEncoder(w).Encode(out)
		return
	}
	s.showBlueprint(c, bp, status)
}

func prettyJSON(raw json.RawMessage) string {
	return funcs["pretty"].(func(json.RawMessage) string)(raw)
}
