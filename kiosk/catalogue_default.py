"""The built-in service catalogue: what a station offers unless its configuration names another file."""

from __future__ import annotations

from kiosk.catalogue import Catalogue, Choice, FieldSpec, ServiceSpec, Text

__all__ = ["DEFAULT_CATALOGUE"]

_NAME = FieldSpec(name="name", kind="name", label=Text("姓名", "Name"), max_length=30, card="name")
_ID = FieldSpec(
    name="id_number",
    kind="id_number",
    label=Text("公民身份号码", "ID number"),
    max_length=18,
    card="id_number",
    hint=Text("可刷身份证自动填写", "Tap your ID card to fill this in"),
)
_PHONE = FieldSpec(name="phone", kind="phone", label=Text("手机号码", "Mobile number"), max_length=11)
_PERIOD = FieldSpec(
    name="period",
    kind="choice",
    label=Text("时段", "Time of day"),
    choices=(
        Choice("am", Text("上午 9:00-12:00", "Morning 9:00-12:00")),
        Choice("pm", Text("下午 14:00-17:00", "Afternoon 14:00-17:00")),
    ),
)
_DATE = FieldSpec(name="date", kind="date", label=Text("预约日期", "Date"), min_days=1, max_days=14)
_WHERE = FieldSpec(name="location", kind="text", label=Text("发生地点", "Where"), max_length=60)

DEFAULT_CATALOGUE = Catalogue(
    services=(
        ServiceSpec(
            id="report_dispute",
            kind="report",
            category="dispute",
            icon="纠",
            title=Text("纠纷报告", "Report a dispute"),
            subtitle=Text("邻里、消费、交通等纠纷", "Neighbours, shopping, traffic..."),
            fields=(
                FieldSpec(
                    name="description", kind="multiline", label=Text("事情经过", "What happened"), max_length=300
                ),
                _WHERE,
                _NAME,
                _PHONE,
            ),
            elder=True,
        ),
        ServiceSpec(
            id="report_hazard",
            kind="report",
            category="hazard",
            icon="险",
            title=Text("安全隐患", "Report a safety hazard"),
            subtitle=Text("井盖缺失、电线裸露、危险建筑等", "Open manholes, bare wires, unsafe buildings..."),
            fields=(
                FieldSpec(name="description", kind="multiline", label=Text("隐患情况", "The hazard"), max_length=300),
                _WHERE,
                FieldSpec(
                    name="phone",
                    kind="phone",
                    label=Text("手机号码（可不填）", "Mobile number (optional)"),
                    required=False,
                    max_length=11,
                ),
            ),
        ),
        ServiceSpec(
            id="traffic_lookup",
            kind="lookup",
            category="traffic",
            icon="车",
            title=Text("交通违法查询", "Traffic matters"),
            subtitle=Text("查询车辆违法记录与处理方式", "Look up a vehicle's violations"),
            fields=(
                FieldSpec(
                    name="plate",
                    kind="plate",
                    label=Text("车牌号码", "Licence plate"),
                    max_length=8,
                    hint=Text("例如 粤B12345", "For example 粤B12345"),
                ),
                _ID,  # a vehicle's record is shown to its registered owner only (issue 12)
            ),
        ),
        ServiceSpec(
            id="appt_id_card",
            kind="appointment",
            category="id_card",
            icon="证",
            title=Text("身份证预约", "ID card appointment"),
            subtitle=Text("申领、换领、补领居民身份证", "Apply for, renew or replace an ID card"),
            fields=(_NAME, _ID, _PHONE, _DATE, _PERIOD),
        ),
        ServiceSpec(
            id="appt_household",
            kind="appointment",
            category="household",
            icon="户",
            title=Text("户籍业务预约", "Household registration"),
            subtitle=Text("出生登记、迁入迁出等", "Birth registration, moving in or out..."),
            fields=(
                FieldSpec(
                    name="matter",
                    kind="choice",
                    label=Text("办理事项", "Matter"),
                    choices=(
                        Choice("birth", Text("出生登记", "Birth registration")),
                        Choice("move_in", Text("户口迁入", "Moving in")),
                        Choice("move_out", Text("户口迁出", "Moving out")),
                    ),
                ),
                _NAME,
                _ID,
                _PHONE,
                _DATE,
                _PERIOD,
            ),
        ),
        ServiceSpec(
            id="queue_ticket",
            kind="ticket",
            category="counter",
            icon="号",
            title=Text("取号排队", "Take a queue ticket"),
            subtitle=Text("窗口业务排队", "Wait for the counter"),
            fields=(
                FieldSpec(
                    name="queue",
                    kind="choice",
                    label=Text("业务类型", "Service"),
                    choices=(
                        Choice("A", Text("综合业务", "General")),
                        Choice("B", Text("证件业务", "ID documents")),
                        Choice("C", Text("报案咨询", "Reports and advice")),
                    ),
                ),
            ),
            elder=True,
        ),
        ServiceSpec(
            id="report_status",
            kind="report_status",
            icon="查",
            title=Text("查询报案进度", "Check my report"),
            subtitle=Text("输入回执上的受理号", "Enter the reference on your receipt"),
            elder=True,
        ),
        ServiceSpec(
            id="notices",
            kind="notices",
            icon="告",
            title=Text("防骗提醒与通报", "Anti-fraud notices"),
            subtitle=Text("防诈骗提示、每周警情通报", "Scam warnings and the weekly bulletin"),
            elder=True,
        ),
        ServiceSpec(
            id="call_officer",
            kind="call_officer",
            icon="警",
            title=Text("呼叫值班民警", "Call the officer on duty"),
            subtitle=Text("需要帮助请点这里", "Need help? Tap here"),
            elder=True,
        ),
        ServiceSpec(
            id="emergency",
            kind="emergency",
            icon="急",
            title=Text("紧急求助", "Emergency"),
            subtitle=Text("遇到危险立即报警", "In danger? Raise the alarm"),
            elder=True,
        ),
        ServiceSpec(
            id="patrol_checkin",
            kind="patrol",
            icon="巡",
            title=Text("巡逻打卡", "Patrol check-in"),
            subtitle=Text("民警、巡防志愿者刷证或输入打卡码", "Officers and volunteers: card or code"),
        ),
    )
)
