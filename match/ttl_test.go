package match

import "testing"

// TestTTL checks the ttl match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestTTL(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-m ttl --ttl-eq 0`, `-m ttl --ttl-eq 0`, ` TTL match TTL == 0`, ` TTL match TTL == 0`, ``},
		{``, ``, `-m ttl ! --ttl-eq 255`, `-m ttl ! --ttl-eq 255`, ` TTL match TTL != 255`, ` TTL match TTL != 255`, ``},
		{``, ``, `-m ttl --ttl-gt 5`, `-m ttl --ttl-gt 5`, ` TTL match TTL > 5`, ` TTL match TTL > 5`, ``},
		{``, ``, `-m ttl --ttl-lt 5`, `-m ttl --ttl-lt 5`, ` TTL match TTL < 5`, ` TTL match TTL < 5`, ``},
		{``, ``, `-m ttl --ttl-gt 255`, `-m ttl --ttl-gt 255`, ` TTL match TTL > 255`, ` TTL match TTL > 255`, ``},
		{``, ``, `-m ttl --ttl-eq 0x10`, `-m ttl --ttl-eq 16`, ` TTL match TTL == 16`, ` TTL match TTL == 16`, ``},
		{``, ``, `-m ttl --ttl-eq +5`, `-m ttl --ttl-eq 5`, ` TTL match TTL == 5`, ` TTL match TTL == 5`, ``},
		{``, ``, `-m ttl ! --ttl-gt 5`, ``, ``, ``, `ttl: option "--ttl-gt" cannot be inverted.`},                               // rc 2
		{``, ``, `-m ttl ! --ttl-lt 5`, ``, ``, ``, `ttl: option "--ttl-lt" cannot be inverted.`},                               // rc 2
		{``, ``, `-m ttl --ttl-eq 256`, ``, ``, ``, `ttl: bad value for option "--ttl-eq", or out of range (0-255).`},           // rc 2
		{``, ``, `-m ttl --ttl-eq -1`, ``, ``, ``, `ttl: bad value for option "--ttl-eq", or out of range (0-255).`},            // rc 2
		{``, ``, `-m ttl --ttl-eq 1x`, ``, ``, ``, `ttl: bad value for option "--ttl-eq", or out of range (0-255).`},            // rc 2
		{``, ``, `-m ttl --ttl-eq 1 --ttl-gt 2`, ``, ``, ``, `ttl: option "--ttl-gt" cannot be used together with "--ttl-eq".`}, // rc 2
		{``, ``, `-m ttl --ttl-lt 1 --ttl-eq 2`, ``, ``, ``, `ttl: option "--ttl-lt" cannot be used together with "--ttl-eq".`}, // rc 2
		{``, ``, `-m ttl --ttl-eq 1 --ttl-eq 2`, ``, ``, ``, `ttl: option "--ttl-eq" can only be used once.`},                   // rc 2
		{``, ``, `-m ttl`, ``, ``, ``, "TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt"},                  // rc 2
	})
}
