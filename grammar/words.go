package grammar

import "strings"

// SplitRestoreLine splits one iptables-restore command line into words the way
// iptables-restore's tokenizer (add_param_to_argv in xshared.c) does, so that
// a file that loads into iptables-restore loads here with the same arguments:
//
//   - blanks (space, TAB, newline) separate words, runs of them count once;
//   - a double quote starts a quoted section in which blanks are literal and a
//     backslash makes the next character literal; the closing quote ends the
//     word ("x"y gives x and y; pre"mid dle"post gives "premid dle" and post);
//   - single quotes and backslashes outside quotes are ordinary characters;
//   - an unterminated quote runs to the end of the line.
func SplitRestoreLine(line string) []string {
	if strings.IndexByte(line, '"') < 0 {
		// Without quotes the words are the runs between blanks, and can
		// share the line's memory: a restore splits a line per rule.
		return strings.FieldsFunc(line, isRestoreBlank)
	}
	return splitQuoted(line)
}

func isRestoreBlank(r rune) bool { return r == ' ' || r == '\t' || r == '\n' }

// splitQuoted is SplitRestoreLine for a line with quotes.
func splitQuoted(line string) []string {
	var words []string
	var cur []byte
	inWord, quoted, escaped := false, false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if quoted {
			switch {
			case escaped:
				cur = append(cur, c)
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				words = append(words, string(cur))
				cur, inWord, quoted = cur[:0], false, false
			default:
				cur = append(cur, c)
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n':
			if inWord {
				words = append(words, string(cur))
				cur, inWord = cur[:0], false
			}
		case '"':
			quoted, inWord = true, true
		default:
			cur = append(cur, c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, string(cur))
	}
	return words
}
