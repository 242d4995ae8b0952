"""The console's words in Chinese (the default) and English. Templates call ``t("key")``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from hub.web.i18n_push import TEXT as PUSH_TEXT

__all__ = ["LANGS", "translator"]

LANGS: Final = ("zh", "en")

TEXT: Final[dict[str, tuple[str, str]]] = {
    "app": ("指挥中心", "Command centre"),
    "alarms": ("报警", "Alarms"),
    "stations": ("警务站", "Stations"),
    "audit": ("操作记录", "Audit log"),
    "login": ("登录", "Sign in"),
    "logout": ("退出", "Sign out"),
    "name": ("用户名", "Name"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误。", "Wrong name or password."),
    "locked": ("连续失败次数过多，账户已暂时锁定。", "Too many failures: the account is locked for a while."),
    "signed_in_as": ("当前用户", "Signed in as"),
    "role_command": ("指挥人员", "command staff"),
    "role_district": ("辖区民警", "district officer"),
    "role_viewer": ("只读", "viewer"),
    "open_incidents": ("未结案警情", "Open incidents"),
    "no_incidents": ("目前没有未结案警情。", "No open incidents."),
    "new_alarms": ("新警情，请确认", "New alarms: mark them seen"),
    "mark_seen": ("确认已阅", "Mark seen"),
    "seen": ("已阅", "seen"),
    "incident": ("警情", "Incident"),
    "station": ("警务站", "Station"),
    "district": ("辖区", "District"),
    "state": ("状态", "State"),
    "site": ("学校 / 按钮", "School / button"),
    "kind": ("类型", "Kind"),
    "elapsed": ("已用时", "Elapsed"),
    "targets": ("1-3-5 目标", "1-3-5 targets"),
    "timeline": ("处置经过", "Timeline"),
    "when": ("时间", "When"),
    "what": ("事项", "What"),
    "who": ("人员", "Who"),
    "detail": ("说明", "Detail"),
    "unit": ("出警单位", "Unit"),
    "presses": ("按压次数", "Presses"),
    "last_heard": ("最后联系", "Last heard"),
    "link": ("链路", "Link"),
    "outbox": ("待发事件", "Outbox"),
    "faults": ("故障", "Faults"),
    "all": ("全部", "All"),
    "filter": ("筛选", "Filter"),
    "no_stations": ("没有符合条件的警务站。", "No stations match."),
    "shown": ("显示", "showing"),
    "pages": ("分页", "Pages"),
    "previous": ("上一页", "previous"),
    "next": ("下一页", "next"),
    "actor": ("操作人", "Who"),
    "action": ("操作", "Action"),
    "target": ("对象", "Target"),
    "back": ("返回报警列表", "Back to alarms"),
    "live": ("实时", "live"),
    "forbidden": ("无权访问。", "Not allowed."),
    "not_found": ("未找到。", "Not found."),
    "csrf": ("请求已过期，请刷新页面后重试。", "The form expired: reload the page and try again."),
    "respond": ("1 分钟响应", "respond 1 min"),
    "arrive": ("3 分钟到场", "arrive 3 min"),
    "resolve": ("5 分钟处置", "resolve 5 min"),
    "met": ("达标", "met"),
    "late": ("超时", "late"),
    "pending": ("进行中", "pending"),
    "st_online": ("在线", "online"),
    "st_silent": ("失联", "silent"),
    "st_offline": ("离线", "offline"),
    "raised": ("报警", "raised"),
    "merged": ("重复按压", "pressed again"),
    "acknowledged": ("已确认", "acknowledged"),
    "dispatched": ("已派警", "dispatched"),
    "on_scene": ("已到场", "on scene"),
    "closed": ("已结案", "closed"),
    "restored": ("按钮复位", "restored"),
    "escalated": ("超时升级", "escalated"),
    "panic": ("紧急求助", "panic"),
    "duress": ("胁迫", "duress"),
    "holdup": ("抢劫", "hold-up"),
    "emergency": ("紧急", "emergency"),
}

TEXT.update(PUSH_TEXT)  # the vehicle-warnings, watch-list and notices pages


def translator(lang: str) -> Callable[[str], str]:
    index = 1 if lang == "en" else 0

    def t(key: str) -> str:
        pair = TEXT.get(key)
        return pair[index] if pair else key

    return t
