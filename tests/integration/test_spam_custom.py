"""Spam filtering by custom rules, and the spam actions, in the SMTP and POP
proxies (spec SPAM-1, SPAM-2 (custom first, WHITE stops), SPAM-3 (no check
for smtp_lan clients), SPAM-4, SPAM-5 (rule numbers are line numbers, G-09),
SPAM-10 (pass, change_subject, blackhole; POP never deletes), SCAN-10 (a
virus is handled before spam), SCAN-12 (quarantine and admin notification
for spam), C-44 (no literal brackets in X-Spam-Status), G-08 (the Subject
prefix), responses.tsv rows "Spam detected", "spam_action=change_subject"
(SMTP) and "Spam detected in RETR message" (POP), LOG-2 (DETECT-STAT:SPAM,
ACTION:PASS/CHANGE_SUBJECT/BLACKHOLE); and a rule file with an error
refused at start and on SIGHUP with its file:line (the old rules kept).

SMTP tests send with smtplib to a gateway in front of postfix's smtp-sink
and read what the sink stored; POP tests RETR from a real dovecot through
the gateway with a raw client."""
import base64
import email
import email.header
import email.policy
import os
import re
import signal
import smtplib
import unittest
import urllib.parse

import harness
from harness import mail_fixtures as mf
from harness import spam
from harness import testfiles
from harness.pop_proxy import PopCase, PopEnv

ENV = {}
RCPT = "user@local.example"
PRODUCT_RX = r"Sekisho/sekisho_%s/[^/]+/gw\.test"

RULES = "\n".join([
    "# custom spam rules of the tests (line 1 is this comment)",
    "BLACK\tSubject\tIGNORECASE\tcheap pills,free %x72olex",       # 2
    "WHITE\tFrom\t\t@friend.example",                                # 3
    "BLACK\tTEXTBODY\tHEADMATCH\tWIN MONEY",                         # 4
    "",                                                              # 5
    "NONE\tFILENAME\tTAILMATCH\t.zip",                               # 6
    "BLACK\tSubject\tAND\tinvoice",                                  # 7
    "BLACK\tX-Mailer\t\tBulkMailer",                                 # 8
]) + "\n"


def write_rules(prefix, rules=RULES, files=spam.CUSTOM_ONLY):
    spam.write_rules(os.path.join(prefix, "conf", "spam"), rules, files)


def mail(subject, body="hello\r\n", sender="Sender <sender@outside.example>", extra=""):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@outside.example>\r\n%s\r\n%s"
            % (sender, RCPT, subject, abs(hash(subject + body)), extra, body))


def zip_mail(subject):
    data = base64.b64encode(b"PK\x05\x06" + b"\0" * 18).decode()
    return ("From: sender@outside.example\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
            "Content-Type: text/plain\r\n\r\nsee attached\r\n--b1\r\n"
            "Content-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=\"stuff.zip\"\r\n\r\n%s\r\n--b1--\r\n"
            % (RCPT, subject, data))


def setUpModule():
    wd = harness.Workdir("spamcustom")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def detect(line):
    m = re.search(r"DETECT-STAT:([A-Z]+):([^:]*):", line)
    return (m.group(1), urllib.parse.unquote(m.group(2))) if m else (None, None)


class SmtpSpamCase(unittest.TestCase):
    SECTION = {}
    COMMON = {}
    HOSTS_ALLOW = ""
    RULES = RULES

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(ENV["wd"].path, cls.__name__)
        os.makedirs(cls.dir, exist_ok=True)
        cls.sink = harness.SmtpSink(cls.dir)
        cls.admin = harness.SmtpSink(cls.dir, subdir="admin")
        section = {"parent_server_host": "127.0.0.1", "parent_server_port": str(cls.sink.port),
                   "virus_check": "yes", "action": "deny", "spam_check": "yes"}
        section.update(cls.SECTION)
        common = {"hostname": "gw.test", "admin_mailaddr": "av-admin@example.test",
                  "admin_mx_host": "127.0.0.1", "admin_mx_port": str(cls.admin.port)}
        common.update(cls.COMMON)
        cls.gw = harness.Gateway(cls.dir, ENV["scand"].socket, service="smtp", section=section,
                                 common=common, hosts_allow=cls.HOSTS_ALLOW, start=False)
        write_rules(cls.gw.prefix, cls.RULES)
        cls.gw.start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.sink.stop()
        cls.admin.stop()

    def send(self, msg):
        with smtplib.SMTP("127.0.0.1", self.gw.port, timeout=30) as c:
            try:
                c.sendmail("sender@outside.example", [RCPT], msg.encode())
            except smtplib.SMTPDataError as e:
                return e.smtp_code, e.smtp_error.decode()
            return 250, ""

    def at_sink(self, marker):
        """The one mail at the sink containing marker."""
        got = harness.wait_for(lambda: [m for m in self.sink.messages() if marker in m], 10,
                               what="mail with %r at the sink" % marker)
        self.assertEqual(len(got), 1)
        return got[0]

    def record(self, marker):
        """The access record of the mail whose Message-ID holds marker."""
        return self.gw.wait_log("access", re.escape(marker))[0]


class TestSmtpPass(SmtpSpamCase):
    """spam_action=pass: X-Spam-Status added, the mail delivered."""
    SECTION = {"spam_action": "pass"}

    def test_spam5_black_rule_line_number_and_header(self):
        msg = mail("Buy CHEAP Pills today")
        self.assertEqual(self.send(msg)[0], 250)
        got = self.at_sink("Buy CHEAP Pills today")
        name = "SEKISHO/SPAM_LIST/CUSTOM/2/Subject"
        # SPAM-1, C-44: "Yes(<product>) with <name>", no brackets
        self.assertRegex(got, r"\nX-Spam-Status: Yes\(%s\) with %s\r?\n"
                         % (PRODUCT_RX % "smtp", re.escape(name)))
        # virus-clean as well: the virus status is still there (SMTP-9 6)
        self.assertRegex(got, r"X-Virus-Status: clean\(")
        line = self.record(str(abs(hash("Buy CHEAP Pills today" + "hello\r\n"))))
        self.assertEqual(detect(line), ("SPAM", name))
        self.assertIn(" ACTION:PASS:", line)
        self.assertRegex(self.gw.log_text("detect"), re.escape(urllib.parse.quote(name, safe="")
                                                                 ).replace("%2F", "(/|%2F)"))
        self.gw.wait_log("info", r"Spam: mail from \[sender@outside.example\] .*SpamName: %s "
                                 r"method=custom action=PASS" % re.escape(name))

    def test_spam4_percent_escape_and_ignorecase(self):
        # "%x72" in the rule is "r": "free rolex", any case
        self.send(mail("FREE ROLEX inside"))
        got = self.at_sink("FREE ROLEX inside")
        self.assertIn("with SEKISHO/SPAM_LIST/CUSTOM/2/Subject", got)

    def test_spam4_rfc2047_subject_decoded_before_matching(self):
        enc = "=?UTF-8?B?%s?=" % base64.b64encode("Cheap pills für alle".encode()).decode()
        self.send(mail(enc))
        got = self.at_sink(enc)
        self.assertIn("with SEKISHO/SPAM_LIST/CUSTOM/2/Subject", got)

    def test_spam5_white_rule_stops_later_rules(self):
        # rule 3 (WHITE, From @friend.example) comes before rule 4 (TEXTBODY)
        self.send(mail("from a friend", body="WIN MONEY now\r\n",
                       sender="Friend <pal@friend.example>"))
        got = self.at_sink("from a friend")
        self.assertNotIn("X-Spam-Status", got)
        self.gw.wait_log("info", r"Not spam: mail from \[sender@outside.example\] matched a "
                                 r"WHITE custom rule")
        # ...but a BLACK rule above the WHITE one still decides first
        self.send(mail("cheap pills from a friend", sender="Friend <pal@friend.example>"))
        self.assertIn("CUSTOM/2/Subject", self.at_sink("cheap pills from a friend"))

    def test_spam4_textbody_headmatch_is_per_line(self):
        self.send(mail("body test 1", body="hello\r\nWIN MONEY fast\r\n"))
        self.assertIn("with SEKISHO/SPAM_LIST/CUSTOM/4/TEXTBODY", self.at_sink("body test 1"))
        self.send(mail("body test 2", body="hello, WIN MONEY fast\r\n"))
        self.assertNotIn("X-Spam-Status", self.at_sink("body test 2"))

    def test_spam4_and_needs_the_previous_rule(self):
        self.send(zip_mail("your invoice 1"))
        self.assertIn("with SEKISHO/SPAM_LIST/CUSTOM/7/Subject", self.at_sink("your invoice 1"))
        self.send(mail("your invoice 2"))  # no .zip: rule 6 false, so rule 7 is false
        self.assertNotIn("X-Spam-Status", self.at_sink("your invoice 2"))
        self.send(zip_mail("your receipt"))  # NONE alone never classifies
        self.assertNotIn("X-Spam-Status", self.at_sink("your receipt"))

    def test_spam4_free_header_field(self):
        self.send(mail("mailer test", extra="X-Mailer: BulkMailer 2.0\r\n"))
        self.assertIn("with SEKISHO/SPAM_LIST/CUSTOM/8/X-Mailer", self.at_sink("mailer test"))

    def test_clean_mail_untouched(self):
        self.send(mail("an ordinary letter"))
        got = self.at_sink("an ordinary letter")
        self.assertNotIn("X-Spam-Status", got)
        line = self.record(str(abs(hash("an ordinary letter" + "hello\r\n"))))
        self.assertEqual(detect(line), ("CLEAN", ""))

    def test_scan10_virus_handled_before_spam(self):
        # virus_check_text is off: EICAR as an attachment
        msg = ("From: s@outside.example\r\nTo: %s\r\nSubject: cheap pills virus\r\n"
               "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
               "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: "
               "attachment; filename=\"e.com\"\r\n\r\n%s\r\n--b--\r\n"
               % (RCPT, testfiles.EICAR.decode()))
        code, text = self.send(msg)
        self.assertEqual(code, 554, text)  # action=deny: the virus decides
        self.assertIn("Eicar", text)


class TestSmtpChangeSubject(SmtpSpamCase):
    """spam_action=change_subject with quarantine and admin notification."""
    SECTION = {"spam_action": "change_subject", "spam_change_subject_prefix": "\"[[SPAM]] \"",
               "spam_quarantine": "yes", "spam_notify_admin": "yes"}

    def test_spam10_g08_prefix_replaces_the_subject(self):
        self.send(mail("cheap pills offer"))
        got = self.at_sink("cheap pills offer")
        subjects = re.findall(r"^Subject:.*$", got, re.M)
        self.assertEqual(subjects, ["Subject: [[SPAM]] cheap pills offer\r"
                                    if subjects and subjects[0].endswith("\r")
                                    else "Subject: [[SPAM]] cheap pills offer"])
        self.assertIn("X-Spam-Status: Yes(", got)
        line = self.record(str(abs(hash("cheap pills offer" + "hello\r\n"))))
        self.assertIn(" ACTION:CHANGE_SUBJECT:", line)

    def test_spam10_folded_and_encoded_subject_kept_after_prefix(self):
        enc = "=?UTF-8?B?%s?=" % base64.b64encode("cheap pills ünd more".encode()).decode()
        self.send(mail("%s\r\n folded tail" % enc))
        got = self.at_sink("folded tail")
        m = email.message_from_string(got.replace("\r\n", "\n"), policy=email.policy.default)
        self.assertEqual(str(m["Subject"]), "[[SPAM]] cheap pills ünd more folded tail")
        self.assertEqual(len(m.get_all("Subject")), 1)

    def test_scan12_spam_quarantined_and_admin_notified(self):
        self.send(mail("cheap pills for quarantine"))
        self.at_sink("cheap pills for quarantine")
        line = self.record(str(abs(hash("cheap pills for quarantine" + "hello\r\n"))))
        m = re.search(r"DETECT-STAT:SPAM:[^:]*:[^:]*:([^:]+):", line)
        self.assertTrue(m, line)
        path = os.path.join(self.gw.prefix, "tmp", "quarantine", urllib.parse.unquote(m.group(1)))
        with open(path, "rb") as f:
            q = f.read()
        self.assertTrue(q.startswith(b"From "), q[:80])  # mailbox format
        self.assertIn(b"cheap pills for quarantine", q)
        notes = harness.wait_for(lambda: [n for n in self.admin.messages()
                                          if "SPAM_LIST/CUSTOM/2/Subject" in n], 10,
                                 what="admin notification")
        self.assertIn("av-admin@example.test", notes[0])


class TestSmtpChangeSubjectUtf8(SmtpSpamCase):
    """A non-ASCII prefix is RFC 2047 encoded (issue 14)."""
    SECTION = {"spam_action": "change_subject", "spam_change_subject_prefix": "【迷惑】"}

    def test_spam10_utf8_prefix_encoded(self):
        self.send(mail("cheap pills utf8"))
        got = self.at_sink("cheap pills utf8")
        raw = re.search(r"^Subject:(.*(?:\r?\n[ \t].*)*)", got, re.M).group(1)
        self.assertIn("=?UTF-8?B?", raw)
        self.assertNotIn("迷惑", raw)  # not raw 8-bit in the header
        text = str(email.header.make_header(email.header.decode_header(raw.strip())))
        self.assertTrue(text.startswith("【迷惑】"), text)
        self.assertIn("cheap pills utf8", text)


class TestSmtpBlackhole(SmtpSpamCase):
    """spam_action=blackhole: accepted, never delivered."""
    SECTION = {"spam_action": "blackhole"}

    def test_spam10_blackhole_deletes(self):
        self.assertEqual(self.send(mail("cheap pills to the void")), (250, ""))
        line = self.record(str(abs(hash("cheap pills to the void" + "hello\r\n"))))
        self.assertIn(" ACTION:BLACKHOLE:", line)
        self.assertEqual(detect(line)[0], "SPAM")
        self.send(mail("a clean one after it"))
        self.at_sink("a clean one after it")
        self.assertFalse([m for m in self.sink.messages() if "cheap pills to the void" in m])


class TestSmtpLan(SmtpSpamCase):
    """SPAM-3: smtp_lan clients are not checked."""
    SECTION = {"spam_action": "blackhole", "lan": "yes"}
    HOSTS_ALLOW = "smtp_lan: 127.0.0.1\n"

    def test_spam3_lan_client_not_checked(self):
        self.assertEqual(self.send(mail("cheap pills from the lan")), (250, ""))
        self.assertNotIn("X-Spam-Status", self.at_sink("cheap pills from the lan"))


class TestRuleFileErrors(unittest.TestCase):
    """A rule file with an error is refused with file:line, at start and on
    SIGHUP (then the old rules stay)."""

    def gateway(self, name, rules, files="CUSTOM\tcustom.txt\n"):
        d = os.path.join(ENV["wd"].path, name)
        os.makedirs(d, exist_ok=True)
        sink = harness.SmtpSink(d)
        self.addCleanup(sink.stop)
        gw = harness.Gateway(d, ENV["scand"].socket, service="smtp", start=False,
                             section={"parent_server_host": "127.0.0.1",
                                      "parent_server_port": str(sink.port),
                                      "spam_check": "yes"}, common={"hostname": "gw.test"})
        write_rules(gw.prefix, rules, files)
        return gw, sink

    def start_fails(self, gw):
        gw.start(wait=False)
        harness.wait_for(lambda: not gw.proc.alive(), 20, what="sekisho refusing to start")
        return gw.proc.output()

    def test_bad_rule_refused_at_start_with_line(self):
        gw, _ = self.gateway("badrule", "# c\nBLACK\tSubject\t\tok\nBLUE\tSubject\t\tx\n")
        out = self.start_fails(gw)
        self.assertRegex(out, r"conf/spam/custom\.txt:3: ")

    def test_other_lists_refused_as_not_built(self):
        gw, _ = self.gateway("uce", RULES, files="CUSTOM\tcustom.txt\nUCE\tuce.txt\n")
        out = self.start_fails(gw)
        self.assertRegex(out, r"conf/spam/files\.txt:2: ")

    def test_missing_rule_file_refused(self):
        gw, _ = self.gateway("missing", RULES, files="CUSTOM\tnot-there.txt\n")
        out = self.start_fails(gw)
        self.assertRegex(out, r"conf/spam/not-there\.txt: No such file")

    def test_sighup_with_bad_rules_keeps_old_ones(self):
        gw, sink = self.gateway("hup", RULES)
        gw.start()
        self.addCleanup(gw.stop)
        with open(os.path.join(gw.prefix, "conf", "spam", "custom.txt"), "a") as f:
            f.write("BLACK\tTEXTBODY\tHEADMATCH,NOPE\tx\n")
        gw.proc.send(signal.SIGHUP)
        gw.wait_log("error", r"custom\.txt:9: .*")
        gw.wait_log("error", r"refused; keeping the running one")
        with smtplib.SMTP("127.0.0.1", gw.port, timeout=30) as c:
            c.sendmail("s@outside.example", [RCPT], mail("cheap pills after hup").encode())
        got = harness.wait_for(lambda: [m for m in sink.messages()
                                        if "cheap pills after hup" in m], 10, what="mail")
        self.assertIn("CUSTOM/2/Subject", got[0])
        # a good file on SIGHUP is taken: the old rule 2 is gone
        write_rules(gw.prefix, "BLACK\tSubject\t\tnew rule word\n")
        gw.proc.send(signal.SIGHUP)
        gw.wait_log("info", r"configuration reloaded", count=1)
        harness.wait_for(lambda: len(gw.worker_pids()) >= 2, 10, what="new workers")

        def delivered(subject):
            with smtplib.SMTP("127.0.0.1", gw.port, timeout=30) as c:
                c.sendmail("s@outside.example", [RCPT], mail(subject).encode())
            return harness.wait_for(lambda: [m for m in sink.messages() if subject in m], 10,
                                    what=subject)[0]
        # the old generation may still answer a moment: bounded retry, a
        # new mail (its own subject) each time
        tries = iter(range(1000))
        got = harness.wait_for(lambda: "CUSTOM/1/Subject" in delivered("new rule word %d"
                                                                          % next(tries)) or None,
                               10, what="the new rules in force")
        self.assertTrue(got)


# ---- POP ------------------------------------------------------------------------------

SPAM_POP = mf.plain("cheap pills by pop", b"buy now\r\n")
CLEAN_POP = mf.plain("a normal pop mail", b"hello\r\n")
WHITE_POP = (b"From: Pal <pal@friend.example>\r\nTo: bob@inside.example\r\n"
             b"Subject: from a friend by pop\r\nMessage-ID: <white-pop@friend.example>\r\n\r\n"
             b"WIN MONEY now\r\n")
BODY_POP = mf.plain("body rule by pop", b"hello\r\nWIN MONEY fast\r\n")
VIRUS_POP = mf.with_attachment("cheap pills with a virus", "eicar.com", testfiles.EICAR)


def setUpPop():
    if "pop" not in ENV:
        ENV["pop"] = PopEnv("spam-pop")
        ENV["pop"].a.set_mailbox("bob", [SPAM_POP, CLEAN_POP, WHITE_POP, BODY_POP, VIRUS_POP])
    return ENV["pop"]


class PopSpamCase(PopCase):
    """The rules of POP classes live in a directory of their own, named by
    the spam_dir key."""
    ENV = ENV

    @classmethod
    def setUpClass(cls):
        env = setUpPop()
        ENV["env"] = env
        spam_dir = os.path.join(env.wd.path, "spamdir-" + cls.__name__)
        write_rules(spam_dir)
        cls.COMMON = dict(cls.COMMON, spam_dir=os.path.join(spam_dir, "conf", "spam"))
        super().setUpClass()

    def retr(self, n):
        return spam.pop_retr(self, n)


class TestPopPass(PopSpamCase):
    """spam_action=pass with spam_notify_admin."""
    SECTION = {"spam_check": "yes", "spam_action": "pass", "spam_notify_admin": "yes"}

    @classmethod
    def setUpClass(cls):
        d = os.path.join(setUpPop().wd.path, cls.__name__ + "-admin")
        os.makedirs(d, exist_ok=True)
        cls.admin = harness.SmtpSink(d)
        cls.COMMON = {"admin_mailaddr": "av-admin@example.test", "admin_mx_host": "127.0.0.1",
                      "admin_mx_port": str(cls.admin.port)}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.admin.stop()

    def test_pop_scan12_admin_notified_of_spam(self):
        self.retr(1)
        notes = harness.wait_for(lambda: [n for n in self.admin.messages()
                                          if "SPAM_LIST/CUSTOM/2/Subject" in n], 10,
                                 what="admin notification")
        self.assertIn("av-admin@example.test", notes[0])

    def test_pop_spam5_white_rule_mail_untouched(self):
        self.assertEqual(self.retr(3), WHITE_POP)
        self.gw.wait_log("info", r"Not spam: URL=\[pop://bob@.*\] matched a WHITE custom rule")

    def test_pop_spam4_textbody_rule(self):
        body = self.retr(4)
        self.assertRegex(body.split(b"\r\n")[1].decode(),
                         r"^X-Spam-Status: Yes\(.*\) with SEKISHO/SPAM_LIST/CUSTOM/4/TEXTBODY$")
        self.assertTrue(body.endswith(BODY_POP))

    def test_pop_scan10_virus_before_spam(self):
        body = self.retr(5)  # action=delete: the virus decides, no spam line
        self.assertRegex(body.split(b"\r\n")[1].decode(), r"^X-Virus-Status: infected\(")
        self.assertNotIn(b"X-Spam-Status", body)

    def test_pop7_spam_lines_before_the_message(self):
        body = self.retr(1)
        lines = body.split(b"\r\n")
        self.assertRegex(lines[0].decode(), r"^Received: from SEKISHO: ")
        self.assertRegex(lines[1].decode(), r"^X-Spam-Status: Yes\(%s\) with "
                         r"SEKISHO/SPAM_LIST/CUSTOM/2/Subject$" % (PRODUCT_RX % "pop"))
        self.assertTrue(body.endswith(SPAM_POP), "the original follows unchanged")
        line = self.access_lines(r"DETECT-STAT:SPAM")[0]
        self.assertIn(" ACTION:PASS:", line)

    def test_pop_clean_mail_byte_identical(self):
        self.assertEqual(self.retr(2), CLEAN_POP)


class TestPopChangeSubject(PopSpamCase):
    SECTION = {"spam_check": "yes", "spam_action": "change_subject",
               "spam_change_subject_prefix": "\"[SPAM] \"", "spam_quarantine": "yes"}

    def test_pop7_spam10_subject_changed_mail_kept(self):
        body = self.retr(1)
        self.assertEqual(re.findall(rb"^Subject:.*$", body, re.M),
                         [b"Subject: [SPAM] cheap pills by pop\r"])
        self.assertIn(b"buy now", body)
        line = self.access_lines(r"DETECT-STAT:SPAM")[0]
        self.assertIn(" ACTION:CHANGE_SUBJECT:", line)
        # SCAN-12: quarantined in mailbox format, the original Subject kept
        m = re.search(r"DETECT-STAT:SPAM:[^:]*:[^:]*:([^:]+):", line)
        self.assertTrue(m, line)
        path = os.path.join(self.gw.prefix, "tmp", "quarantine", urllib.parse.unquote(m.group(1)))
        with open(path, "rb") as f:
            q = f.read()
        self.assertTrue(q.startswith(b"From "), q[:80])
        self.assertIn(b"Subject: cheap pills by pop", q)
        # the message is still on the server: POP never deletes (SPAM-10)
        self.assertIn(b"cheap pills by pop", self.retr(1))


class TestPopBlackholeRefused(unittest.TestCase):
    """spam_action=blackhole is not a POP value (003:1921)."""

    def test_pop_blackhole_refused_at_start(self):
        d = os.path.join(ENV["wd"].path, "popblackhole")
        os.makedirs(d, exist_ok=True)
        gw = harness.Gateway(d, ENV["scand"].socket, service="pop", start=False,
                             section={"spam_check": "yes", "spam_action": "blackhole"})
        gw.start(wait=False)
        harness.wait_for(lambda: not gw.proc.alive(), 20, what="refusal")
        self.assertRegex(gw.proc.output(), r"sekisho\.ini:\d+: .*spam_action")


def tearDownPop():
    if "pop" in ENV:
        ENV["pop"].stop()


_orig_teardown = tearDownModule


def tearDownModule():  # noqa: F811 - the POP env too
    tearDownPop()
    _orig_teardown()


if __name__ == "__main__":
    unittest.main()
