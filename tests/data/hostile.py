"""A corpus of hostile customer texts and display names (issue 9), shared by the hostile-input,
fuzz and fault tests.

Kept as Python rather than YAML because several entries (lone UTF-16 surrogates, NUL) cannot be
written in a YAML file at all; each entry is named so a failure says which one broke.

Sources for the shapes: Slack's mrkdwn special mentions and links are `<!channel>`, `<!here>`,
`<!everyone>`, `<@U…>`, `<#C…>`, `<!subteam^S…>` and `<url|label>`, and `&`, `<`, `>` are the only
characters Slack asks apps to escape ("Formatting text for app surfaces", api.slack.com/reference/
surfaces/formatting#escaping).
"""

from __future__ import annotations

# The special mentions that notify a whole channel or workspace: no Slack message Parley posts may
# hold one unescaped that came from a customer.
MASS_MENTIONS = ("<!channel>", "<!here>", "<!everyone>")
# A link the customer supplied, as it would look if Parley passed it through as a clickable link.
CUSTOMER_LINK = "<https://evil.example|click>"
EVIL_HOST = "evil.example"

TEXTS: dict[str, str] = {
    "lone_high_surrogate": "half an emoji \ud83d here",
    "lone_low_surrogate": "the other half \udc00 here",
    "nul_and_c0": "a NUL \x00 a bell \x07 an escape \x1b[31m red \x1b[0m and a backspace \x08",
    "rtl_override": "refund \u202egnp.exe\u202c please",
    "invisible_only": "\u200b\u2800\u3164\u2060",
    "zero_width_mixed": "pay\u200bpal\u2060 sup\ufeffport \u3164 \u2800",
    "huge": "slow down " * 6_100,  # 61 000 characters
    "mass_channel": "<!channel> everyone look at this",
    "mass_here_everyone": "<!here> and <!everyone> and <!subteam^S0STAFF>",
    "mass_variants": "<!channel|channel> <!here|here> <!everyone|everyone> @channel @here",
    "user_mention": "hey <@U0AGENT> and <@W0BOSS|boss> and <#C0SUPPORT>",
    "mrkdwn_link": f"{CUSTOMER_LINK} for a free refund",
    "mrkdwn_link_mailto": "<mailto:ceo@evil.example|Email the CEO> or <https://evil.example>",
    "mrkdwn_styles": "*bold* _italic_ ~strike~ `code` ```block``` > quote",
    "html": "<script>alert(1)</script> <b>bold</b> <img src=x onerror=alert(1)>",
    "entities": "Ben &amp; Jerry &lt;!channel&gt; &#60;!here&#62; &",
    "urls": "https://evil.example/free-money http://evil.example/login?next=https://acme.example",
    "at_mentions": "@acme_ceo is a fraud, tell @acme_support and @jack",
    "placeholders": "{ref} {agent} {name} {handle} {customer} {{agent}} ${ref} %(name)s",
    "format_strings": "%s %d %n %x {0} {0!r} {0.__class__} {} %%",
    "sql": "'; DROP TABLE message; -- \" OR 1=1 /* */",
    "emoji_zwj": "👩🏽‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 🧑🏿‍🤝‍🧑🏻 🇪🇸",
    "combining_stack": "Z" + "\u0336\u0335\u0334\u0337\u0338" * 60 + "algo",
    "newlines": "line one\r\nline two\rline three\n\n\n\u2028\u2029end",
    "backslashes": "C:\\Users\\x\\n \\u0000 \\\\",
}

NAMES: dict[str, str] = {
    "ceo_fraud": "@acme_ceo is a fraud",
    "url": "https://evil.example/free-money",
    "mass_mention": "<!channel> Winner",
    "mrkdwn_link": CUSTOMER_LINK,
    "ampersand": "Ben & Jerry <Ltd>",
    "rtl": "\u202eredaer\u202c",
    "invisible": "\u3164\u200b",
    "surrogate": "Ana \ud83d Díaz",
    "nul": "Nul\x00 Name",
    "placeholder": "{agent} {ref}",
    "long": "N" * 400,
}

