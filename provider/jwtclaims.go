package provider

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"time"
)

// outsideClaims are the registered claims of a JWT from outside (a client
// assertion, a subject token), decoded from its verified or still
// unverified payload.
type outsideClaims struct {
	Iss string       `json:"iss"`
	Sub string       `json:"sub"`
	Aud audienceList `json:"aud"`
	Exp *numericDate `json:"exp"`
	Nbf *numericDate `json:"nbf"`
	Iat *numericDate `json:"iat"`
	Jti string       `json:"jti"`
}

func decodeOutsideClaims(payload []byte) (outsideClaims, error) {
	var c outsideClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return outsideClaims{}, errors.New("claims are not a JSON object of the registered types")
	}
	return c, nil
}

// numericDate is a JWT NumericDate (seconds since the epoch, possibly
// fractional).
type numericDate float64

func (d *numericDate) time() time.Time {
	sec, frac := math.Modf(float64(*d))
	return time.Unix(int64(sec), int64(frac*1e9))
}

// audienceList is aud: a string or an array of strings.
type audienceList []string

func (a *audienceList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audienceList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud must be a string or an array of strings")
	}
	*a = many
	return nil
}

// hasAny reports whether a holds one of want.
func (a audienceList) hasAny(want ...string) bool {
	return slices.ContainsFunc(a, func(v string) bool { return v != "" && slices.Contains(want, v) })
}
