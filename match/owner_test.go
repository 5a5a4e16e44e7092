package match

import (
	"syscall"
	"testing"
)

// The rows use only root (0) by name, which every passwd and group
// database has, and IDs that no system account uses.
var ownerRows = []rlRow{
	// libxt_owner.t
	{table: "mangle", chain: "OUTPUT", rule: "-m owner --uid-owner root", save: "-m owner --uid-owner 0", print: " owner UID match root", printN: " owner UID match 0"},
	{table: "mangle", chain: "OUTPUT", rule: "-m owner --uid-owner 0-10", save: "=", print: " owner UID match 0-10"},
	{table: "mangle", chain: "OUTPUT", rule: "-m owner --gid-owner root", save: "-m owner --gid-owner 0", print: " owner GID match root", printN: " owner GID match 0"},
	{table: "mangle", chain: "OUTPUT", rule: "-m owner --gid-owner 0-10", save: "=", print: " owner GID match 0-10"},
	{table: "mangle", chain: "OUTPUT", rule: "-m owner --uid-owner root --gid-owner root", save: "-m owner --uid-owner 0 --gid-owner 0", print: " owner UID match root owner GID match root", printN: " owner UID match 0 owner GID match 0"},
	{table: "mangle", chain: "OUTPUT", rule: "-m owner --uid-owner 0-10 --gid-owner 0-10", save: "=", print: " owner UID match 0-10 owner GID match 0-10"},
	{table: "mangle", chain: "OUTPUT", rule: "-m owner ! --uid-owner root", save: "-m owner ! --uid-owner 0", print: " ! owner UID match root", printN: " ! owner UID match 0"},
	{table: "mangle", chain: "OUTPUT", rule: "-m owner --socket-exists", save: "=", print: " owner socket exists"},
	{table: "mangle", chain: "OUTPUT", rule: "-m owner --gid-owner 0-10 --suppl-groups", save: "=", print: " owner GID match 0-10 incl. suppl. groups"},
	{table: "mangle", chain: "OUTPUT", rule: "-m owner --suppl-groups --gid-owner 0-10", err: `owner: Bad value for "--suppl-groups" option: "you need to use --gid-owner first"`},
	{table: "mangle", chain: "OUTPUT", rule: "-m owner --suppl-groups", err: `owner: Bad value for "--suppl-groups" option: "you need to use --gid-owner first"`},
	{table: "mangle", chain: "POSTROUTING", rule: "-m owner --uid-owner root", save: "-m owner --uid-owner 0", print: " owner UID match root", printN: " owner UID match 0"},
	{table: "mangle", chain: "POSTROUTING", rule: "-m owner --gid-owner 0-10 --suppl-groups", save: "=", print: " owner GID match 0-10 incl. suppl. groups"},
	// The hook restriction (x_tables' xt_check_match on ownerInfo.Hooks).
	{table: "mangle", chain: "INPUT", rule: "-m owner --uid-owner root", err: "ip_tables: owner match: used from hooks INPUT, but only valid from OUTPUT/POSTROUTING", errno: syscall.EINVAL},
	{table: "mangle", chain: "FORWARD", rule: "-m owner --uid-owner root", err: "ip_tables: owner match: used from hooks FORWARD, but only valid from OUTPUT/POSTROUTING", errno: syscall.EINVAL},
	{table: "mangle", chain: "PREROUTING", rule: "-m owner --socket-exists", err: "ip_tables: owner match: used from hooks PREROUTING, but only valid from OUTPUT/POSTROUTING", errno: syscall.EINVAL},
	{chain: "INPUT", rule: "-m owner --uid-owner root", err: "ip_tables: owner match: used from hooks INPUT, but only valid from OUTPUT/POSTROUTING", errno: syscall.EINVAL},
	{chain: "OUTPUT", rule: "-m owner --uid-owner root", save: "-m owner --uid-owner 0", print: " owner UID match root", printN: " owner UID match 0"},
	{table: "nat", chain: "POSTROUTING", rule: "-m owner --uid-owner root", save: "-m owner --uid-owner 0", print: " owner UID match root", printN: " owner UID match 0"},

	// IDs: names first, then numbers (base 0) and ranges with - or :.
	{chain: "OUTPUT", rule: "-m owner --uid-owner 0", save: "=", print: " owner UID match root", printN: " owner UID match 0"},
	{chain: "OUTPUT", rule: "-m owner --uid-owner 12345", save: "=", print: " owner UID match 12345"},
	{chain: "OUTPUT", rule: "-m owner --uid-owner 0x3039", save: "-m owner --uid-owner 12345", print: " owner UID match 12345"},
	{chain: "OUTPUT", rule: "-m owner --uid-owner 4294967294", save: "=", print: " owner UID match 4294967294"},
	{chain: "OUTPUT", rule: "-m owner --uid-owner 0:0", save: "-m owner --uid-owner 0", print: " owner UID match root", printN: " owner UID match 0"},
	{chain: "OUTPUT", rule: "-m owner --gid-owner 12345:12346", save: "-m owner --gid-owner 12345-12346", print: " owner GID match 12345-12346"},
	{chain: "OUTPUT", rule: "-m owner --uid-owner 4294967295", err: `owner: Bad value for "--uid-owner" option: "4294967295"`},
	{chain: "OUTPUT", rule: "-m owner --uid-owner -1", err: `owner: Bad value for "--uid-owner" option: "-1"`},
	{chain: "OUTPUT", rule: "-m owner --uid-owner 1-", err: `owner: Bad value for "--uid-owner" option: "1-"`},
	{chain: "OUTPUT", rule: "-m owner --uid-owner 1-2-3", err: `owner: Bad value for "--uid-owner" option: "1-2-3"`},
	{chain: "OUTPUT", rule: "-m owner --uid-owner no-such-user-gofw", err: `owner: Bad value for "--uid-owner" option: "no-such-user-gofw"`},
	{chain: "OUTPUT", rule: "-m owner --gid-owner no-such-group-gofw", err: `owner: Bad value for "--gid-owner" option: "no-such-group-gofw"`},
	// xt_owner refuses a descending range.
	{chain: "OUTPUT", rule: "-m owner --uid-owner 10-0", err: "xt_owner: UID range 10-0 is descending", errno: syscall.EINVAL},
	{chain: "OUTPUT", rule: "-m owner --gid-owner 10-0", err: "xt_owner: GID range 10-0 is descending", errno: syscall.EINVAL},

	// Negation per test; printed socket, UID, GID, in that order.
	{chain: "OUTPUT", rule: "-m owner ! --socket-exists", save: "=", print: " ! owner socket exists"},
	{chain: "OUTPUT", rule: "-m owner ! --gid-owner 0-10 --suppl-groups", save: "=", print: " ! owner GID match 0-10 incl. suppl. groups"},
	{chain: "OUTPUT", rule: "-m owner ! --uid-owner 12345 ! --gid-owner 0 ! --socket-exists", save: "-m owner ! --socket-exists ! --uid-owner 12345 ! --gid-owner 0",
		print: " ! owner socket exists ! owner UID match 12345 ! owner GID match root", printN: " ! owner socket exists ! owner UID match 12345 ! owner GID match 0"},
	{chain: "OUTPUT", rule: "-m owner", err: "owner: At least one of --uid-owner, --gid-owner or --socket-exists is required"},
}

func TestOwner(t *testing.T) { rlRun(t, ownerRows) }

func TestOwnerOracle(t *testing.T) { rlOracle(t, ownerRows) }
