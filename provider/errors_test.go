package provider_test

import (
	"errors"
	"fmt"
	"testing"

	"user-registry/provider"
)

func TestMessage(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		isInput bool
		want    string
	}{
		{"input error", provider.InvalidInput("Please provide a valid email"), true, "Please provide a valid email"},
		{"wrapped input error", fmt.Errorf("signup: %w", provider.InvalidInput("Bad phone")), true, "Bad phone"},
		{"bare sentinel", provider.ErrInvalidInput, true, "Invalid input"},
		{"other error", errors.New("db down"), false, ""},
		{"nil", nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, provider.ErrInvalidInput); got != tt.isInput {
				t.Errorf("errors.Is(ErrInvalidInput) = %v, want %v", got, tt.isInput)
			}
			if got := provider.Message(tt.err); got != tt.want {
				t.Errorf("Message = %q, want %q", got, tt.want)
			}
		})
	}
}
