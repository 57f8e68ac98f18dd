"""Every user-facing string of the bot: Chinese, and English for users whose language is English."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "help": (
            "我是春节问答机器人：亲戚问到尴尬问题时，我帮你按选定的风格回一句。\n\n"
            "用法：\n{how}{buttons}\n"
            "风格命令：\n{styles}\n"
            "/answer 用本群默认风格回答\n"
            "/style <风格> 设置本群默认风格（当前：{current}）\n"
            "/help 显示本说明"
        ),
        # How to ask differs by platform; the rest of the help is the same everywhere.
        "how_telegram": "• 回复亲戚的消息并发送 /{first} （或其他风格命令），我就回答那条消息\n"
        "• @我 + 问题，例如：@{bot} 你什么时候结婚？\n• 回复我的回答可以追问\n",
        "how_discord": "• 在亲戚的消息上点右键 → Apps → 用 SpringFest 回复\n"
        "• 斜杠命令 /{first} 加上问题，或 @我 + 问题（@我 时回复亲戚的消息，就回答那条消息）\n"
        "• 回复我的回答可以追问\n",
        "how_web": "• 在输入框写下亲戚的问题，点一个风格按钮；再点别的风格，就用那个风格重答\n",
        "how_onebot": "• 在群里 @我 + 问题，例如：@{bot} 你什么时候结婚？\n"
        "• 回复亲戚的消息并发送 /{first}（中文也行：/委婉 /转移 /阴阳），我就回答那条消息\n• 私聊直接发问题\n",
        # Under the answers: buttons where the platform has them, replies where it does not (QQ).
        "buttons": "• 回答下面的按钮可以换风格，或者「换一个」\n",
        "buttons_onebot": "• 回复我的回答并发送 /阴阳 这样的风格命令就换风格，发送「换一个」换一条\n",
        "hint_no_buttons": "💡 回复本条 {styles} 换风格，/换一个 换一条",
        "how_qqbot": "• 在群里 @我 + 问题，例如：@{bot} 你什么时候结婚？\n• 私聊直接发问题\n",
        "buttons_qqbot": "",
        "another_where": "「换一个」要回复我的某条回答，我才知道换哪一条。",
        "style_line": "/{command} {emoji} {label}",
        "another": "🔄 换一个",
        "refuse_private": "抱歉，这个机器人只为主人服务。"
        "如需使用，请让主人把你的用户 id {user} 加入 access.owners。",
        "refuse_group": "抱歉，这个群还没有开通春节问答机器人。请机器人的主人在群里发送 /approve 开通。",
        "owner_hint": "这个群还没开通。你是主人：发送 /approve 就能开通。",
        "approved": "已开通 ✅ 本群成员现在可以使用我了。发送 /help 查看用法。",
        "revoked": "已关闭。我在本群不再回答问题，主人发送 /approve 可重新开通。",
        "owners_only": "只有机器人的主人可以这样做。",
        "groups_only": "这个命令只能在群里用。",
        "style_set": "好的，本群默认风格改为 {emoji} {label}。",
        "style_unknown": "没有「{arg}」这个风格。可选：{choices}",
        "style_show": "本群默认风格：{emoji} {label}。可选：{choices}\n用法：/style <风格>",
        "unknown_command": "不认识这个命令。发送 /help 查看用法。",
        "empty_mention": "请在 @我 后面写上问题，或者回复亲戚的消息再 @我。",
        "empty_command": "请在命令后面写上问题，或者回复亲戚的消息再发送 /{command}。",
        "no_question": "没看到问题呢（只有表情或贴纸）。请用文字写下问题。",
        "cut": "（问题太长，只看了前 {limit} 个字）",
        "rate_user": "你问得太快了，请 {seconds} 秒后再试。",
        "rate_chat": "本群提问太密集了，请 {seconds} 秒后再试。",
        "expired": "这个按钮已失效，请重新提问。",
        "switched": "已换成{label}",
        "another_done": "换了一个",
        "error": "出了点问题，请稍后再试。",
        "inline_title": "{emoji} {label}",
    },
    "en": {
        "help": (
            "I'm the Spring Festival Q&A bot: when relatives ask awkward questions, I suggest a reply in "
            "the style you pick.\n\n"
            "How to use me:\n{how}{buttons}\n"
            "Style commands:\n{styles}\n"
            "/answer answer in this chat's default style\n"
            "/style <style> set this chat's default style (now: {current})\n"
            "/help show this help"
        ),
        "how_telegram": "• Reply to a relative's message with /{first} (or another style command) and I answer it\n"
        "• Mention me with a question, e.g. @{bot} when are you getting married?\n"
        "• Reply to one of my answers to follow up\n",
        "how_discord": "• Right-click a relative's message → Apps → 用 SpringFest 回复\n"
        "• The slash command /{first} with a question, or mention me with one (a mention in reply to a "
        "relative's message answers that message)\n• Reply to one of my answers to follow up\n",
        "how_web": "• Type the relative's question in the box and click a style; click another style to "
        "answer it again that way\n",
        "how_onebot": "• In a group, mention me with a question, e.g. @{bot} when are you getting married?\n"
        "• Reply to a relative's message with /{first} (or another style command) and I answer it\n"
        "• In a private chat just send the question\n",
        "buttons": "• Use the buttons under an answer to switch style or get another one\n",
        "buttons_onebot": "• Reply to one of my answers with a style command such as /sarcastic to switch style, "
        "or with /another for another one\n",
        "hint_no_buttons": "💡 Reply to this with {styles} to switch style, /another for another one",
        "how_qqbot": "• In a group, mention me with a question, e.g. @{bot} when are you getting married?\n"
        "• In a private chat just send the question\n",
        "buttons_qqbot": "",
        "another_where": "Reply to one of my answers with /another, so I know which one to change.",
        "style_line": "/{command} {emoji} {label}",
        "another": "🔄 Another",
        "refuse_private": "Sorry, this bot only serves its owners. To use it, ask an owner to add your user "
        "id {user} to access.owners.",
        "refuse_group": "Sorry, this bot is not enabled in this group. An owner of the bot can send /approve "
        "here to enable it.",
        "owner_hint": "This group is not enabled yet. You are an owner: send /approve to enable it.",
        "approved": "Enabled ✅ Members of this group can use me now. Send /help to see how.",
        "revoked": "Disabled. I no longer answer in this group; an owner can send /approve to enable me "
        "again.",
        "owners_only": "Only an owner of the bot can do that.",
        "groups_only": "This command only works in groups.",
        "style_set": "OK, this chat's default style is now {emoji} {label}.",
        "style_unknown": 'There is no style "{arg}". Choices: {choices}',
        "style_show": "This chat's default style: {emoji} {label}. Choices: {choices}\nUsage: /style <style>",
        "unknown_command": "I don't know that command. Send /help to see what I can do.",
        "empty_mention": "Please write a question after mentioning me, or mention me in a reply to a "
        "relative's message.",
        "empty_command": "Please write a question after the command, or send /{command} as a reply to a "
        "relative's message.",
        "no_question": "I see no question (only emoji or a sticker). Please write the question in words.",
        "cut": "(The question was long: I only read its first {limit} characters.)",
        "rate_user": "You are asking too fast; please try again in {seconds} s.",
        "rate_chat": "This chat is asking too fast; please try again in {seconds} s.",
        "expired": "This button has expired; please ask again.",
        "switched": "Switched to {label}",
        "another_done": "Here is another one",
        "error": "Something went wrong; please try again later.",
        "inline_title": "{emoji} {label}",
    },
}

COMMAND_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "zh": {
        "answer": "用本群默认风格回答（可回复亲戚的消息）",
        "style": "设置本群默认风格",
        "help": "使用说明",
        "style_cmd": "用「{label}」回答（可回复亲戚的消息）",
    },
    "en": {
        "answer": "answer in this chat's default style (works as a reply)",
        "style": "set this chat's default style",
        "help": "how to use the bot",
        "style_cmd": "answer {label} (works as a reply)",
    },
}


def lang_of(code: str | None) -> str:
    """'en' for English clients, else 'zh' (the bot's language)."""
    return "en" if (code or "").lower().startswith("en") else "zh"


def t(lang: str, key: str, **kwargs: object) -> str:
    """The string `key` in `lang` (Chinese when unknown), formatted with kwargs."""
    table = TEXTS.get(lang_of(lang), TEXTS["zh"])
    return table[key].format(**kwargs) if kwargs else table[key]
