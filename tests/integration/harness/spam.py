"""What the spam tests (test_spam_*.py) share: the rule files, the
detection name of an X-Spam-Status line, and a RETR as bob through the POP
proxy.

  write_rules(d, rules, files)   files.txt and custom.txt in the directory d
                                 (a gateway's spam_dir: <prefix>/conf/spam
                                 by default); d is created
  spam_name(text)                the name of "X-Spam-Status: Yes(...) with
                                 <name>" in a mail as text, or None
  pop_retr(case, n)              message n of bob's mailbox through
                                 case's gateway (a PopCase), unstuffed
"""
import os
import re

from .pop_proxy import unstuff

CUSTOM_ONLY = "CUSTOM\tcustom.txt\n"


def write_rules(d, rules, files=CUSTOM_ONLY):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "files.txt"), "w") as f:
        f.write(files)
    with open(os.path.join(d, "custom.txt"), "w") as f:
        f.write(rules)


def spam_name(text):
    m = re.search(r"^X-Spam-Status: Yes\([^)]*\) with (\S+)\r?$", text, re.M)
    return m.group(1) if m else None


def pop_retr(case, n):
    c = case.client()
    c.login("bob", "bob secret")
    st, body = c.multi("RETR %d" % n)
    case.assertTrue(st.startswith(b"+OK"), st)
    c.cmd("QUIT")
    return unstuff(body)
