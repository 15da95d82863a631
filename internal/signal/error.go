package signal

import (
	"errors"
	"fmt"
)

// Error codes shared by every boundary. HTTP handlers map them to statuses;
// the CLI maps them to messages.
const (
	ECONFLICT     = "CONFLICT"
	EINTERNAL     = "INTERNAL"
	EINVALID      = "INVALID_PAYLOAD"
	ENOTFOUND     = "NOT_FOUND"
	EUNAUTHORIZED = "UNAUTHORIZED"
	// EFORBIDDEN: authenticated, but the user's role may not do this.
	EFORBIDDEN = "FORBIDDEN"
)

// Error is a domain error that is safe to show to the caller: Message never
// carries secrets or personal data.
type Error struct {
	Code    string
	Message string
	// Field names the offending input, as a JSON path ("config.api_key").
	Field string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an *Error naming the input field at fault.
func FieldErrorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err: the message of an
// *Error, or a generic text for an internal error (whose detail may not be
// safe to show).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorField returns the field named by err, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
