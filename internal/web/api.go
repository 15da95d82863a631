package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// apiError is the API's error body, kept to show its message (and place it
// beside the field it names).
type apiError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func (e *apiError) Error() string { return e.Message }

// result is one in-process API answer.
type result struct {
	status int
	body   []byte
	err    *apiError
}

func (r result) decode(v any) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("decode the API's answer: %w", err)
	}
	return nil
}

// recorder is the smallest http.ResponseWriter that keeps an answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.header }
func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.body.Write(b)
}
func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

// do serves one API request in-process with token (may be empty), keeping
// the client's address so the API's throttles and logs see the real caller.
func (s *server) do(r *http.Request, token, method, path string, body any) result {
	var rd io.Reader
	contentType := "application/json"
	if raw, ok := body.(rawBody); ok {
		// A file passed on as is; rewound, as a retry sends it again.
		if _, err := raw.r.Seek(0, io.SeekStart); err != nil {
			return result{status: 500, err: &apiError{Status: 500, Code: "INTERNAL", Message: "could not read the uploaded file"}}
		}
		rd, contentType = raw.r, raw.contentType
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return result{status: 500, err: &apiError{Status: 500, Code: "INTERNAL", Message: "could not encode the request"}}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, path, rd)
	if err != nil {
		return result{status: 500, err: &apiError{Status: 500, Code: "INTERNAL", Message: "bad request path"}}
	}
	req.RemoteAddr = r.RemoteAddr
	req.Header.Set("User-Agent", r.UserAgent())
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := &recorder{header: http.Header{}}
	s.api.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	res := result{status: rec.status, body: rec.body.Bytes()}
	if rec.status >= 400 {
		var e struct {
			Error apiError `json:"error"`
		}
		if json.Unmarshal(res.body, &e) != nil || e.Error.Message == "" {
			e.Error = apiError{Code: "ERROR", Message: fmt.Sprintf("the API answered %d", rec.status)}
		}
		e.Error.Status = rec.status
		res.err = &e.Error
	}
	return res
}

// call is do for a signed-in user: it refreshes the access token when it
// has expired (or the API refuses it) and retries once.
func (s *server) call(w http.ResponseWriter, r *http.Request, sess *session, method, path string, body any) result {
	if accessExpired(sess.Access, s.now()) {
		s.renew(w, r, sess)
	}
	res := s.do(r, sess.Access, method, path, body)
	if res.status == http.StatusUnauthorized && s.renew(w, r, sess) {
		res = s.do(r, sess.Access, method, path, body)
	}
	return res
}

// get calls GET path and decodes into v; the error is the API's.
func (s *server) get(w http.ResponseWriter, r *http.Request, sess *session, path string, v any) *apiError {
	res := s.call(w, r, sess, http.MethodGet, path, nil)
	if res.err != nil {
		return res.err
	}
	if err := res.decode(v); err != nil {
		return &apiError{Status: 502, Code: "INTERNAL", Message: err.Error()}
	}
	return nil
}
