<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Kiosk</name>
    <message>
        <source>Put your ID card on the reader to fill in your details.</source>
        <translation>请将身份证放在读卡区，自动填写个人信息。</translation>
    </message>
    <message>
        <source>Check my report</source>
        <translation>查询报案进度</translation>
    </message>
    <message>
        <source>Enter the reference on your receipt. For a report made at this station the last 6 digits are enough; for another station enter the whole reference (a space for each dash).</source>
        <translation>请输入回执上的受理号。在本站报的案，输入末6位数字即可；在其他站点报的案，请输入完整受理号（每个“-”用空格代替）。</translation>
    </message>
    <message>
        <source>e.g. 000123</source>
        <translation>例如 000123</translation>
    </message>
    <message>
        <source>Check</source>
        <translation>查询</translation>
    </message>
    <message>
        <source>Back</source>
        <translation>返回</translation>
    </message>
    <message>
        <source>Enter the reference on your receipt.</source>
        <translation>请输入回执上的受理号。</translation>
    </message>
    <message>
        <source>Checking...</source>
        <translation>正在查询……</translation>
    </message>
    <message>
        <source>Reference: %1</source>
        <translation>受理号：%1</translation>
    </message>
    <message>
        <source>Submit</source>
        <translation>提交</translation>
    </message>
    <message>
        <source>Your ID card was read.</source>
        <translation>已读取身份证信息。</translation>
    </message>
    <message>
        <source>Please correct the fields marked in red.</source>
        <translation>请修改红字提示的内容。</translation>
    </message>
    <message>
        <source>Sending...</source>
        <translation>正在提交……</translation>
    </message>
    <message>
        <source>Are you still there?</source>
        <translation>您还在吗？</translation>
    </message>
    <message>
        <source>In %1 seconds everything you entered will be cleared.</source>
        <translation>%1 秒后将清除您填写的全部信息。</translation>
    </message>
    <message>
        <source>Continue</source>
        <translation>继续办理</translation>
    </message>
    <message>
        <source>Queue number</source>
        <translation>排队号</translation>
    </message>
    <message>
        <source>Reference number</source>
        <translation>受理号</translation>
    </message>
    <message>
        <source>Appointment: %1</source>
        <translation>预约时间：%1</translation>
    </message>
    <message>
        <source>No violations found for this vehicle.</source>
        <translation>该车辆没有违法记录。</translation>
    </message>
    <message>
        <source>handled</source>
        <translation>已处理</translation>
    </message>
    <message>
        <source>not handled</source>
        <translation>未处理</translation>
    </message>
    <message>
        <source>%1 points, %2 yuan</source>
        <translation>扣 %1 分，罚款 %2 元</translation>
    </message>
    <message>
        <source>Printing your receipt...</source>
        <translation>正在打印回执……</translation>
    </message>
    <message>
        <source>Please take your receipt.</source>
        <translation>请取走回执。</translation>
    </message>
    <message>
        <source>Print again</source>
        <translation>重新打印</translation>
    </message>
    <message>
        <source>Finish</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Touch the screen to start</source>
        <translation>请点击屏幕开始</translation>
    </message>
    <message>
        <source>Smart police station: self-service</source>
        <translation>智慧警务站自助服务</translation>
    </message>
    <message>
        <source>Reports, appointments, traffic matters and more, day and night.</source>
        <translation>报警求助、业务预约、交通违法查询，全天 24 小时服务。</translation>
    </message>
    <message>
        <source>Smart police station</source>
        <translation>智慧警务站</translation>
    </message>
    <message>
        <source>Elder mode</source>
        <translation>长者模式</translation>
    </message>
    <message>
        <source>Choose a service. Tap your ID card on the reader when asked.</source>
        <translation>请选择服务。需要时请将身份证放在读卡区。</translation>
    </message>
    <message>
        <source>Anti-fraud notices and bulletins</source>
        <translation>防骗提醒与警情通报</translation>
    </message>
    <message>
        <source>There are no notices at the moment.</source>
        <translation>暂无通知。</translation>
    </message>
    <message>
        <source>Anti-fraud</source>
        <translation>防骗提醒</translation>
    </message>
    <message>
        <source>Weekly bulletin</source>
        <translation>每周警情通报</translation>
    </message>
    <message>
        <source>Emergency</source>
        <translation>紧急求助</translation>
    </message>
    <message>
        <source>If you are in danger, press the red button. Officers will come at once. For a fire or medical emergency, also call 119 or 120.</source>
        <translation>如遇危险，请按下红色按钮，民警会立即赶到。火警或急救请同时拨打 119 或 120。</translation>
    </message>
    <message>
        <source>Raise the alarm now</source>
        <translation>立即报警</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Checking in...</source>
        <translation>正在打卡……</translation>
    </message>
    <message>
        <source>Sorry, this could not be done now. Please ask the officer on duty.</source>
        <translation>抱歉，暂时无法办理，请联系值班民警。</translation>
    </message>
    <message>
        <source>Officers and patrol volunteers: put your ID card on the reader, or type your check-in code.</source>
        <translation>民警、巡防志愿者：请将身份证放在读卡区，或输入打卡码。</translation>
    </message>
    <message>
        <source>Check-in code</source>
        <translation>打卡码</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Check in</source>
        <translation>打卡</translation>
    </message>
</context>
</TS>
