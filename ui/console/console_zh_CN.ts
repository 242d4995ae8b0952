<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Console</name>
    <message>
        <source>Escalated ×%1</source>
        <translation>已上报指挥中心 ×%1</translation>
    </message>
    <message>
        <source>Pressed ×%1</source>
        <translation>已按 %1 次</translation>
    </message>
    <message>
        <source>Button restored</source>
        <translation>按钮已复位</translation>
    </message>
    <message>
        <source>account %1</source>
        <translation>用户号 %1</translation>
    </message>
    <message>
        <source>zone %1</source>
        <translation>防区 %1</translation>
    </message>
    <message>
        <source>Raised at %1</source>
        <translation>报警时间 %1</translation>
    </message>
    <message>
        <source>Elapsed</source>
        <translation>已过时间</translation>
    </message>
    <message>
        <source>Unit (optional)</source>
        <translation>出警单位（可选）</translation>
    </message>
    <message>
        <source>One-key alarm</source>
        <translation>一键报警</translation>
    </message>
    <message>
        <source>Duress alarm</source>
        <translation>胁迫报警</translation>
    </message>
    <message>
        <source>Hold-up alarm</source>
        <translation>劫持报警</translation>
    </message>
    <message>
        <source>Emergency</source>
        <translation>紧急求助</translation>
    </message>
    <message>
        <source>Awaiting acknowledgement</source>
        <translation>待接警</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>已接警</translation>
    </message>
    <message>
        <source>Dispatched</source>
        <translation>已出警</translation>
    </message>
    <message>
        <source>On scene</source>
        <translation>到达现场</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>已结案</translation>
    </message>
    <message>
        <source>Officer call</source>
        <translation>呼叫值班民警</translation>
    </message>
    <message>
        <source>At the scene</source>
        <translation>已到场</translation>
    </message>
    <message>
        <source>Respond</source>
        <translation>响应</translation>
    </message>
    <message>
        <source>Arrive</source>
        <translation>到场</translation>
    </message>
    <message>
        <source>Resolve</source>
        <translation>处置</translation>
    </message>
    <message>
        <source>Acknowledge</source>
        <translation>确认接警</translation>
    </message>
    <message>
        <source>Dispatch</source>
        <translation>出警</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>结案</translation>
    </message>
    <message>
        <source>Real incident</source>
        <translation>真实警情</translation>
    </message>
    <message>
        <source>False alarm</source>
        <translation>误报</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>测试</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Silence</source>
        <translation>知道了</translation>
    </message>
    <message>
        <source>Noted</source>
        <translation>已知悉</translation>
    </message>
    <message>
        <source>NEW ALARM</source>
        <translation>新警情</translation>
    </message>
    <message>
        <source>RESIDENT CALLING AT THE KIOSK</source>
        <translation>群众在自助终端呼叫民警</translation>
    </message>
    <message>
        <source>RESPONSE OVERDUE</source>
        <translation>响应超时</translation>
    </message>
    <message>
        <source>ARRIVAL OVERDUE</source>
        <translation>到场超时</translation>
    </message>
    <message>
        <source>RESOLUTION OVERDUE</source>
        <translation>处置超时</translation>
    </message>
    <message>
        <source>ESCALATED TO COMMAND</source>
        <translation>已上报指挥中心</translation>
    </message>
    <message>
        <source>PRESSED AGAIN</source>
        <translation>再次报警</translation>
    </message>
    <message>
        <source>Alarm panel</source>
        <translation>报警主机</translation>
    </message>
    <message>
        <source>Wired button</source>
        <translation>有线按钮</translation>
    </message>
    <message>
        <source>Station kiosk</source>
        <translation>警务站终端</translation>
    </message>
    <message>
        <source>Entered by crew</source>
        <translation>值班人员录入</translation>
    </message>
    <message>
        <source>Alarm raised</source>
        <translation>报警</translation>
    </message>
    <message>
        <source>Pressed again</source>
        <translation>再次按下</translation>
    </message>
    <message>
        <source>Escalated to command</source>
        <translation>上报指挥中心</translation>
    </message>
    <message>
        <source>Alarm service not running on this station</source>
        <translation>本站报警服务未运行</translation>
    </message>
    <message>
        <source>Could not load the incidents</source>
        <translation>无法读取警情</translation>
    </message>
    <message>
        <source>Could not load the school links</source>
        <translation>无法读取学校链路</translation>
    </message>
    <message>
        <source>Sound unavailable</source>
        <translation>声音不可用</translation>
    </message>
    <message>
        <source>Could not load the camera status</source>
        <translation>无法加载摄像头状态</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>启动中</translation>
    </message>
    <message>
        <source>disconnected</source>
        <translation>断开</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>故障</translation>
    </message>
    <message>
        <source>ended</source>
        <translation>已结束</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>fault</source>
        <translation>故障</translation>
    </message>
    <message>
        <source>Not recorded</source>
        <translation>未记录</translation>
    </message>
    <message>
        <source>Manual alarm</source>
        <translation>手动报警</translation>
    </message>
    <message>
        <source>Raise an alarm by hand</source>
        <translation>手动发起报警</translation>
    </message>
    <message>
        <source>History</source>
        <translation>历史记录</translation>
    </message>
    <message>
        <source>Back</source>
        <translation>返回</translation>
    </message>
    <message>
        <source>Raise…</source>
        <translation>发起报警…</translation>
    </message>
    <message>
        <source>Confirm alarm</source>
        <translation>确认报警</translation>
    </message>
    <message>
        <source>Raising…</source>
        <translation>正在报警…</translation>
    </message>
    <message>
        <source>Siren on</source>
        <translation>开启警笛</translation>
    </message>
    <message>
        <source>Siren off</source>
        <translation>关闭警笛</translation>
    </message>
    <message>
        <source>Enter the site</source>
        <translation>请填写地点</translation>
    </message>
    <message>
        <source>Site and point: at most 64 characters each</source>
        <translation>地点和位置各不超过 64 个字</translation>
    </message>
    <message>
        <source>The alarm was not raised</source>
        <translation>报警未发出</translation>
    </message>
    <message>
        <source>Time to dispatch</source>
        <translation>出警用时</translation>
    </message>
    <message>
        <source>Time to scene</source>
        <translation>到场用时</translation>
    </message>
    <message>
        <source>Time to close</source>
        <translation>结案用时</translation>
    </message>
    <message>
        <source>No closed incidents yet</source>
        <translation>暂无已结案警情</translation>
    </message>
    <message>
        <source>Could not load the history</source>
        <translation>无法加载历史记录</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>Reports</source>
        <translation>报案工单</translation>
    </message>
    <message>
        <source>Residents&apos; reports: %1 open, %2 not triaged</source>
        <translation>群众报案：%1 件未办结，%2 件待分流</translation>
    </message>
    <message>
        <source>New report %1: %2 · %3</source>
        <translation>新报案 %1：%2 · %3</translation>
    </message>
    <message>
        <source>No.</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Place</source>
        <translation>地点</translation>
    </message>
    <message>
        <source>Contact</source>
        <translation>联系电话</translation>
    </message>
    <message>
        <source>Age</source>
        <translation>时长</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>not synced</source>
        <translation>未同步</translation>
    </message>
    <message>
        <source>New</source>
        <translation>待分流</translation>
    </message>
    <message>
        <source>Triaged</source>
        <translation>已分流</translation>
    </message>
    <message>
        <source>Assigned</source>
        <translation>已指派</translation>
    </message>
    <message>
        <source>In progress</source>
        <translation>处理中</translation>
    </message>
    <message>
        <source>Resolved</source>
        <translation>已办结</translation>
    </message>
    <message>
        <source>Referred</source>
        <translation>已转办</translation>
    </message>
    <message>
        <source>Settle on the spot</source>
        <translation>现场调解</translation>
    </message>
    <message>
        <source>Follow up</source>
        <translation>跟进处理</translation>
    </message>
    <message>
        <source>To the station</source>
        <translation>带回警务站</translation>
    </message>
    <message>
        <source>Dispute</source>
        <translation>纠纷</translation>
    </message>
    <message>
        <source>Safety hazard</source>
        <translation>安全隐患</translation>
    </message>
    <message>
        <source>Triage</source>
        <translation>分流</translation>
    </message>
    <message>
        <source>Assign</source>
        <translation>指派</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始处理</translation>
    </message>
    <message>
        <source>Mark resolved</source>
        <translation>办结</translation>
    </message>
    <message>
        <source>Refer</source>
        <translation>转办</translation>
    </message>
    <message>
        <source>Officer&apos;s name</source>
        <translation>民警姓名</translation>
    </message>
    <message>
        <source>Outcome (for a referral: to whom and why)</source>
        <translation>处理结果（转办请写明转交单位及原因）</translation>
    </message>
    <message>
        <source>Enter the officer&apos;s name</source>
        <translation>请填写民警姓名</translation>
    </message>
    <message>
        <source>Enter the outcome</source>
        <translation>请填写处理结果</translation>
    </message>
    <message>
        <source>No reports yet</source>
        <translation>暂无报案</translation>
    </message>
    <message>
        <source>Could not load the reports</source>
        <translation>未能载入报案工单</translation>
    </message>
    <message>
        <source>Reported %1</source>
        <translation>报案时间 %1</translation>
    </message>
    <message>
        <source>Officer: %1</source>
        <translation>民警：%1</translation>
    </message>
    <message>
        <source>Outcome: %1</source>
        <translation>结果：%1</translation>
    </message>
    <message>
        <source>not applied: %1</source>
        <translation>未采纳：%1</translation>
    </message>
    <message>
        <source>%1 min</source>
        <translation>%1分钟</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1秒</translation>
    </message>
    <message>
        <source>done in %1</source>
        <translation>用时 %1</translation>
    </message>
    <message>
        <source>late by %1</source>
        <translation>超时 %1 完成</translation>
    </message>
    <message>
        <source>%1 over</source>
        <translation>已超时 %1</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>剩余 %1</translation>
    </message>
    <message>
        <source>Cameras %1/%2 online</source>
        <translation>摄像头 %1/%2 在线</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
    <message>
        <source>offline: %1</source>
        <translation>离线：%1</translation>
    </message>
    <message>
        <source>(%1 starting)</source>
        <translation>（%1 台启动中）</translation>
    </message>
    <message>
        <source>Open incidents: %1</source>
        <translation>未结警情：%1</translation>
    </message>
    <message>
        <source>LINK LOST: %1</source>
        <translation>链路中断：%1</translation>
    </message>
    <message>
        <source>since %1</source>
        <translation>自 %1</translation>
    </message>
    <message>
        <source>FAULT: %1</source>
        <translation>故障：%1</translation>
    </message>
    <message>
        <source>All %1 school links OK</source>
        <translation>%1 所学校链路正常</translation>
    </message>
    <message>
        <source>No faults</source>
        <translation>无故障</translation>
    </message>
    <message>
        <source>Station service not connected</source>
        <translation>站务服务未连接</translation>
    </message>
    <message>
        <source>Alarms cannot reach this console. Reconnecting by itself…</source>
        <translation>报警无法送达本值班台，正在自动重连…</translation>
    </message>
    <message>
        <source>Disconnected for %1</source>
        <translation>已断开 %1</translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation>%1失败：%2</translation>
    </message>
    <message>
        <source>Street police station · Crew console</source>
        <translation>街面警务站 · 值班台</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>已连接</translation>
    </message>
    <message>
        <source>Not connected</source>
        <translation>未连接</translation>
    </message>
    <message>
        <source>No open incidents</source>
        <translation>当前无警情</translation>
    </message>
    <message>
        <source>New alarms appear here at once, with sound.</source>
        <translation>新报警将立即在此显示并鸣响。</translation>
    </message>
    <message>
        <source>WATCH-LIST VEHICLE</source>
        <translation>布控车辆预警</translation>
    </message>
    <message>
        <source>Priority %1</source>
        <translation>优先级 %1</translation>
    </message>
    <message>
        <source>%1 more not yet noted</source>
        <translation>另有 %1 条未确认</translation>
    </message>
    <message>
        <source>Near match</source>
        <translation>近似匹配</translation>
    </message>
    <message>
        <source>listed %1</source>
        <translation>布控号牌 %1</translation>
    </message>
    <message>
        <source>confidence %1%</source>
        <translation>置信度 %1%</translation>
    </message>
    <message>
        <source>Recent vehicle hits: %1</source>
        <translation>最近布控车辆：%1</translation>
    </message>
    <message>
        <source>Manual siren control is disabled at this station</source>
        <translation>本站已禁用手动警笛控制</translation>
    </message>
    <message>
        <source>on</source>
        <translation>开启</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>not known</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>Siren and strobe: %1</source>
        <translation>警笛与警灯：%1</translation>
    </message>
    <message>
        <source>switching failed: %1</source>
        <translation>切换失败：%1</translation>
    </message>
    <message>
        <source>Site (required)</source>
        <translation>地点（必填）</translation>
    </message>
    <message>
        <source>Point or place</source>
        <translation>具体位置</translation>
    </message>
    <message>
        <source>Raise “%1” now at %2?</source>
        <translation>立即发出“%1”报警：%2？</translation>
    </message>
    <message>
        <source>Closed incidents: %1</source>
        <translation>已结案警情：%1</translation>
    </message>
    <message>
        <source>Raised</source>
        <translation>报警时间</translation>
    </message>
    <message>
        <source>Site · point</source>
        <translation>地点 · 位置</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>处置结果</translation>
    </message>
    <message>
        <source>%1 more</source>
        <translation>另有 %1 个</translation>
    </message>
</context>
</TS>
