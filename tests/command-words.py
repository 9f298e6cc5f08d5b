#!/usr/bin/env python3
"""Print the words in command position of shell scripts, one per line.

    command-words.py SCRIPT...

A lexer good enough for our tests, not a shell parser: it drops comments,
here-documents and quoted text (but keeps what $(...) runs inside double quotes), splits
at ; | & ( ) { } ` and newlines, skips variable assignments, and after a
wrapper that runs its arguments (timeout, xargs, requires, ...) also takes
the wrapped command.  The caller decides which words are tools: functions,
builtins and English words in odd places come out too.
"""
import re
import sys

SEPARATORS = set(";|&(){}`\n")
# Words after which the next word is a command again.
KEYWORDS = {"if", "then", "else", "elif", "do", "while", "until", "!", "time"}
# Wrappers: the first word after them that is not an option (or, for
# timeout, the duration) is the command they run.
WRAPPERS = {"requires", "wait_for", "timeout", "xargs", "exec", "env",
            "nice", "nohup", "setsid", "command", "flock", "prlimit",
            "unshare", "taskset", "stdbuf", "ionice"}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")


def tokens(text):
    """Yield words and separators; quoted text is dropped, $(...) inside
    double quotes is lexed as code."""
    word = []
    i = 0
    # Stack of contexts: 'code' or 'dq' (inside double quotes).
    stack = ["code"]
    parens = [0]

    def flush():
        if word:
            w = "".join(word)
            word.clear()
            return w
        return None

    while i < len(text):
        c = text[i]
        top = stack[-1]
        if c == "\\":
            if top == "code":
                word.append(text[i + 1:i + 2])
            i += 2
            continue
        if top == "dq":
            if c == '"':
                stack.pop()
                word.append("Q")       # a quoted word is still a word
            elif text.startswith("$(", i) and not text.startswith("$((", i):
                stack.append("code")
                parens.append(0)
                w = flush()
                if w:
                    yield w
                yield "("
                i += 2
                continue
            i += 1
            continue
        # code
        if c == "'":
            end = text.find("'", i + 1)
            i = len(text) if end == -1 else end + 1
            word.append("Q")
            continue
        if c == '"':
            stack.append("dq")
            i += 1
            continue
        if c == "#" and not word:
            end = text.find("\n", i)
            i = len(text) if end == -1 else end
            continue
        if text.startswith("$((", i):
            # arithmetic: no commands
            depth, j = 0, i + 1
            while j < len(text):
                if text[j] == "(":
                    depth += 1
                elif text[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            word.append("N")
            i = j + 1
            continue
        if text.startswith("${", i):
            end = text.find("}", i)
            word.append("V")
            i = len(text) if end == -1 else end + 1
            continue
        if c == "$" and text.startswith("$(", i):
            w = flush()
            if w:
                yield w
            parens[-1] += 1
            yield "("
            i += 2
            continue
        if c in SEPARATORS:
            w = flush()
            if w:
                yield w
            if c == ")" and len(stack) > 1:
                if parens[-1] == 0:
                    stack.pop()
                    parens.pop()
                else:
                    parens[-1] -= 1
            elif c == "(":
                parens[-1] += 1
            elif c == ")":
                parens[-1] -= 1
            yield c
            i += 1
            continue
        if c in " \t":
            w = flush()
            if w:
                yield w
            i += 1
            continue
        word.append(c)
        i += 1
    w = flush()
    if w:
        yield w


HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")


def drop_heredocs(text):
    """Here-documents are data (or another language): drop their bodies."""
    out, delimiter = [], None
    for line in text.splitlines(keepends=True):
        if delimiter is not None:
            if line.strip() == delimiter:
                delimiter = None
            continue
        out.append(line)
        m = HEREDOC.search(line)
        if m:
            delimiter = m.group(2)
    return "".join(out)


def command_words(text):
    text = drop_heredocs(text)
    at_command = True
    wrapped = False
    for tok in tokens(text):
        if tok in SEPARATORS:
            at_command, wrapped = True, False
            continue
        if not at_command:
            continue
        if tok in KEYWORDS or ASSIGNMENT.match(tok):
            continue
        if wrapped and (tok.startswith("-") or re.fullmatch(r"[0-9.]+[smhd]?", tok)):
            continue
        yield tok
        wrapped = tok in WRAPPERS
        at_command = wrapped


def main():
    words = set()
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            words.update(command_words(f.read()))
    for w in sorted(words):
        print(w)


if __name__ == "__main__":
    main()
