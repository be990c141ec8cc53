package web

import "errors"

// errorText is the client-facing text of an error matched by row: the
// row's fixed message, else the provider's user message when the error
// carries one, else the error's own text (only rows whose errors are written
// for clients leave message empty).
func errorText(err error, row errorRow) string {
	if row.message != "" {
		return row.message
	}
	var m interface{ UserMessage() string }
	if errors.As(err, &m) {
		return m.UserMessage()
	}
	return err.Error()
}

// clientMessage is an error of the web layer whose text is written for
// clients: it becomes the JSON message as is (capitalized, punctuated).
type clientMessage string

func (e clientMessage) Error() string { return string(e) }
