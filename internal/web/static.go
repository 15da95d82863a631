package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// staticFiles serves the embedded CSS and JavaScript with a content ETag,
// so a browser revalidates cheaply (304) and a new release is seen at once.
type staticFiles struct {
	files map[string]staticFile
}

type staticFile struct {
	body []byte
	etag string
	ctyp string
}

// staticRoot holds the embedded files; assets is built from it once, as
// the files cannot change while the program runs.
var (
	staticRoot, _ = fs.Sub(staticFS, "static")
	assets        = newStaticFiles(staticRoot)
)

// assetVersion is the start of name's content hash, used in asset URLs so
// a new release's file is fetched at once.
func assetVersion(name string) string {
	return strings.Trim(assets.files[name].etag, `"`)
}

func newStaticFiles(fsys fs.FS) *staticFiles {
	sf := &staticFiles{files: map[string]staticFile{}}
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:8])
		ctyp := mime.TypeByExtension(path.Ext(p))
		if ctyp == "" {
			ctyp = "application/octet-stream"
		}
		sf.files[p] = staticFile{body: b, etag: `"` + h + `"`, ctyp: ctyp}
		return nil
	})
	return sf
}

func (sf *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := sf.files[strings.TrimPrefix(r.URL.Path, "/static/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "public, max-age=3600, must-revalidate")
	if match := r.Header.Get("If-None-Match"); match != "" {
		for _, m := range strings.Split(match, ",") {
			if m = strings.TrimSpace(m); m == f.etag || m == "*" || m == "W/"+f.etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	h.Set("Content-Type", f.ctyp)
	w.Write(f.body)
}
