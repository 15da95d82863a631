// Package token issues and verifies the Management API's HS256 JSON Web
// Tokens.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Claims are what an access token says.
type Claims struct {
	Subject string `json:"sub"`
	Role    string `json:"role"`
	Type    string `json:"typ"`
	// SessionID names the login the token was issued in (sign-out ends
	// the session's tokens); empty in tokens issued before sessions.
	SessionID string `json:"sid,omitempty"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
}

// ErrInvalid is returned for a malformed, forged or expired token.
var ErrInvalid = errors.New("token is invalid or expired")

var header = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// Signer issues and verifies tokens with one secret.
type Signer struct {
	secret []byte
	now    func() time.Time
}

// NewSigner returns a Signer; the secret must be at least 32 bytes.
func NewSigner(secret []byte, now func() time.Time) (*Signer, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("token: JWT secret is %d bytes; at least 32 are needed", len(secret))
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{secret: secret, now: now}, nil
}

// IssueParams is what an access token is issued for.
type IssueParams struct {
	Subject   string
	Role      string
	SessionID string
	TTL       time.Duration
}

// Issue signs an access token for p.Subject with lifetime p.TTL.
func (s *Signer) Issue(p IssueParams) (string, error) {
	now := s.now()
	body, err := json.Marshal(Claims{Subject: p.Subject, Role: p.Role, Type: "access", SessionID: p.SessionID, IssuedAt: now.Unix(), ExpiresAt: now.Add(p.TTL).Unix()})
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	unsigned := header + "." + base64.RawURLEncoding.EncodeToString(body)
	return unsigned + "." + s.sign(unsigned), nil
}

func (s *Signer) sign(unsigned string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(unsigned))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Verify checks a token's signature, algorithm and expiry.
func (s *Signer) Verify(tok string) (*Claims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, ErrInvalid
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, ErrInvalid
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &h) != nil || h.Alg != "HS256" {
		return nil, ErrInvalid
	}
	if !hmac.Equal([]byte(s.sign(parts[0]+"."+parts[1])), []byte(parts[2])) {
		return nil, ErrInvalid
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, ErrInvalid
	}
	var c Claims
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, ErrInvalid
	}
	if c.Type != "access" || s.now().Unix() >= c.ExpiresAt || c.Subject == "" {
		return nil, ErrInvalid
	}
	return &c, nil
}
