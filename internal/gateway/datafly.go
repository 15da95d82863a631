package gateway

import (
	_ "embed"
	"net/http"
)

//go:embed datafly.js
var dataflyJS []byte

func serveDataflyJS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(dataflyJS)
}
