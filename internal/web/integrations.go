package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
)

type integrationsPage struct {
	Tab       string
	Installed []integrationJSON
	Groups    []catalogGroup
	ListErr   string
}

type catalogGroup struct {
	Label   string
	Entries []installForm
}

// installForm is the install form of one catalog entry, with what the
// person typed and the API's answer when it was refused.
type installForm struct {
	Entry     catalogEntry
	Name      string
	Variant   string
	Values    map[string]string
	Errors    map[string]string
	FormErr   string
	Duplicate string
	Confirm   bool
	CSRF      string
	CanWrite  bool
}

// fieldMessage makes an API message that leaves its subject out ("is
// required: …") a sentence naming the field by its label.
func (f installForm) fieldMessage(field, msg string) string {
	if !strings.HasPrefix(msg, "is ") && !strings.HasPrefix(msg, "must ") {
		return msg
	}
	label := map[string]string{"name": "Name", "variant": "Variant"}[field]
	for _, cf := range f.Entry.ConfigFields {
		if field == "config."+cf.Key {
			label = cf.Label
		}
	}
	return label + " " + msg
}

// fieldKnown says whether the form shows field, so its error goes beside it.
func (f installForm) fieldKnown(field string) bool {
	if field == "name" || field == "variant" {
		return true
	}
	for _, cf := range f.Entry.ConfigFields {
		if field == "config."+cf.Key {
			return true
		}
	}
	return false
}

// categoryLabel names a catalog category for people.
func categoryLabel(e catalogEntry) string {
	if e.CategoryLabel != "" {
		return e.CategoryLabel
	}
	words := strings.Split(e.Category, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

func (s *server) handleIntegrations(c *pageCtx) {
	c.v.Title, c.v.Nav = "Integrations", "integrations"
	p := integrationsPage{Tab: "installed"}
	if c.r.URL.Query().Get("tab") == "library" {
		p.Tab = "library"
		c.v.Title = "Integration Library"
	}
	var ins struct {
		Data []integrationJSON `json:"data"`
	}
	if err := c.get(s, "/v1/admin/integrations?limit=100", &ins); err != nil {
		p.ListErr = err.Message
	}
	p.Installed = ins.Data
	var cat struct {
		Data []catalogEntry `json:"data"`
	}
	if err := c.get(s, "/v1/admin/integration-catalog", &cat); err != nil {
		p.ListErr = err.Message
	}
	byLabel := map[string]*catalogGroup{}
	for _, e := range cat.Data {
		l := categoryLabel(e)
		if byLabel[l] == nil {
			byLabel[l] = &catalogGroup{Label: l}
		}
		f := newInstallForm(e)
		f.CSRF, f.CanWrite = c.v.CSRF, c.v.CanWrite()
		byLabel[l].Entries = append(byLabel[l].Entries, f)
	}
	for _, g := range byLabel {
		p.Groups = append(p.Groups, *g)
	}
	sort.Slice(p.Groups, func(i, j int) bool { return p.Groups[i].Label < p.Groups[j].Label })
	c.v.Page = p
	s.render(c.w, http.StatusOK, "integrations", c.v)
}

func newInstallForm(e catalogEntry) installForm {
	f := installForm{Entry: e, Name: e.Name, Values: map[string]string{}, Errors: map[string]string{}}
	if len(e.Variants) > 0 {
		f.Variant = e.Variants[0].Key
	}
	return f
}

func (s *server) catalogEntry(c *pageCtx) (catalogEntry, bool) {
	var e catalogEntry
	if err := c.get(s, "/v1/admin/integration-catalog/"+url.PathEscape(c.r.PathValue("key")), &e); err != nil {
		s.errorPage(c.w, c.v, err.Status, "Integration not found", err.Message)
		return e, false
	}
	return e, true
}

func (s *server) handleInstallPage(c *pageCtx) {
	e, ok := s.catalogEntry(c)
	if !ok {
		return
	}
	f := newInstallForm(e)
	f.CSRF, f.CanWrite = c.v.CSRF, c.v.CanWrite()
	c.v.Title, c.v.Nav, c.v.Page = "Install "+e.Name, "integrations", f
	s.render(c.w, http.StatusOK, "install", c.v)
}

func (s *server) handleInstall(c *pageCtx) {
	e, ok := s.catalogEntry(c)
	if !ok {
		return
	}
	f := newInstallForm(e)
	f.CSRF, f.CanWrite = c.v.CSRF, c.v.CanWrite()
	form := c.r.PostForm
	f.Name, f.Variant, f.Confirm = strings.TrimSpace(form.Get("name")), form.Get("variant"), form.Get("confirm_duplicate") == "on"
	config := map[string]any{}
	for _, cf := range e.ConfigFields {
		v := form.Get("config." + cf.Key)
		f.Values[cf.Key] = v
		switch {
		case cf.Type == "boolean":
			config[cf.Key] = v == "on"
		case v != "":
			config[cf.Key] = v
		}
	}
	body := map[string]any{"name": f.Name, "variant": f.Variant, "config": config}
	if len(e.DeliveryModes) > 0 {
		body["delivery_mode"] = e.DeliveryModes[0]
	}
	if f.Confirm {
		body["confirm_duplicate"] = true
	}
	res := c.send(s, http.MethodPost, "/v1/admin/integration-catalog/"+url.PathEscape(e.Key)+"/install", body)
	if res.err == nil {
		var in integrationJSON
		if res.decode(&in) == nil && in.ID != "" {
			redirect(c.w, c.r, "/integrations/"+url.PathEscape(in.ID), in.Name+" installed.")
			return
		}
		redirect(c.w, c.r, "/integrations", e.Name+" installed.")
		return
	}
	switch {
	case res.err.Status == http.StatusConflict:
		f.Duplicate = res.err.Message
	case f.fieldKnown(res.err.Field):
		f.Errors[res.err.Field] = f.fieldMessage(res.err.Field, res.err.Message)
	default:
		f.FormErr = res.err.Message
	}
	c.v.Title, c.v.Nav, c.v.Page = "Install "+e.Name, "integrations", f
	s.render(c.w, res.err.Status, "install", c.v)
}
