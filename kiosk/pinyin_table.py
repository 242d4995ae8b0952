"""A small built-in pinyin table: common characters (surnames, places, everyday words) per syllable,
most frequent first, plus a few common words. Enough for names, addresses and short descriptions."""

from __future__ import annotations

__all__ = ["SYLLABLES", "WORDS"]

_RAW = """
a:啊阿 ai:爱哀挨矮 an:安按案暗岸 ang:昂 ao:奥澳傲
ba:把八吧爸巴拔 bai:白百摆败拜 ban:办半班般板搬 bang:帮棒 bao:报包保宝抱暴 bei:被北备背杯悲
ben:本奔 beng:崩 bi:比必笔避鼻闭币 bian:边变便编遍 biao:表标 bie:别 bin:宾 bing:并病兵冰
bo:波博拨伯 bu:不部步布补 ca:擦 cai:才菜采财彩蔡 can:参残餐 cang:藏仓 cao:草曹 ce:测策册
ceng:曾层 cha:查茶差察 chai:柴拆 chan:产 chang:长常场厂唱 chao:朝超潮吵 che:车撤 chen:陈晨沉
cheng:成城程称承 chi:吃持迟 chong:冲重充 chou:抽 chu:出处初除 chuan:传穿川船 chuang:窗床
chun:春 ci:次此词 cong:从 cu:粗 cui:崔 cun:村存 cuo:错 da:大打达答 dai:带代待戴 dan:单但担
dang:当党 dao:到道倒导 de:的得德 deng:等灯邓 di:地第低底弟 dian:电点店 diao:掉调 die:跌
ding:定顶 dong:东动懂冬董 dou:都斗 du:度读独堵杜 duan:段断短 dui:对队 dun:顿 duo:多夺
e:额恶饿 en:恩 er:二而儿耳 fa:发法罚 fan:反饭犯范樊 fang:方房放防 fei:非飞费 fen:分份 feng:风封丰冯
fu:付服父府福妇夫傅 gai:该改 gan:干感敢甘 gang:刚港 gao:高告搞 ge:个各哥歌 gei:给 gen:跟根
geng:更 gong:工公共功 gou:够狗 gu:故古顾 gua:挂 guai:怪 guan:关管观官 guang:光广 gui:贵规桂
gun:滚 guo:国过果郭 ha:哈 hai:还海害孩 han:韩汉 hang:行航杭 hao:好号 he:和河合何贺 hei:黑
hen:很 heng:横 hong:红洪 hou:后候侯 hu:户湖胡护呼 hua:话花华 huai:坏 huan:还换 huang:黄皇
hui:回会汇 hun:婚 huo:火或货霍 ji:机及几记急级 jia:家加假价 jian:见件建检 jiang:将江讲蒋 jiao:交叫教
jie:接街解姐 jin:进今金近 jing:警经京景 jiu:就九旧 ju:居局举 juan:卷 jue:觉决 jun:军
ka:卡 kai:开 kan:看 kang:康 kao:考靠 ke:可科客 ken:肯 kong:空孔 kou:口 ku:哭苦 kuai:快块
kuan:宽 kuang:况 kun:困 kuo:扩 la:拉 lai:来 lan:蓝兰 lang:浪 lao:老劳 le:了乐 lei:类
leng:冷 li:里理李立力 lian:联连脸 liang:两量亮梁 liao:了 lie:列 lin:林邻 ling:领零 liu:六刘流
long:龙 lou:楼 lu:路陆卢 lv:旅律绿吕 luan:乱 lun:论 luo:落罗 ma:吗马妈 mai:买卖 man:满慢
mang:忙 mao:毛 me:么 mei:没美每 men:们门 meng:梦 mi:米密 mian:面 miao:秒 min:民 ming:名明
mo:莫 mu:木目 na:那拿 nai:奶 nan:南难男 nao:闹 ne:呢 nei:内 neng:能 ni:你 nian:年 niang:娘
niao:鸟 nin:您 ning:宁 niu:牛 nong:农 nu:女 nuan:暖 ou:欧 pa:怕 pai:派 pan:盘潘 pang:旁
pao:跑 pei:配 peng:朋彭 pi:批 pian:片骗 piao:票 pin:品 ping:平 po:破 pu:普 qi:起其七期
qian:前钱千 qiang:强 qiao:桥 qie:切 qin:亲 qing:情请清青 qiu:求 qu:去区 quan:全 que:确
qun:群 ran:然 rang:让 re:热 ren:人认任 ri:日 rong:容 rou:肉 ru:如入 ruan:软 rui:瑞 run:润
san:三 sang:桑 se:色 sen:森 sha:沙 shan:山 shang:上商 shao:少 she:社 shei:谁 shen:深身沈
sheng:生省 shi:是时事市十 shou:手收 shu:书 shuang:双 shui:水 shuo:说 si:四 song:送宋 su:苏
suan:算 sui:岁 sun:孙 suo:所 ta:他她它 tai:太台 tan:谈 tang:唐 tao:逃 te:特 ti:提体 tian:天田
tiao:条 tie:铁 ting:停 tong:通同 tou:头偷 tu:图 tuan:团 tui:推 tuo:托 wa:挖 wai:外 wan:万晚完玩
wang:王网 wei:为位 wen:问 wo:我 wu:五无 xi:西 xia:下 xian:先现 xiang:想 xiao:小 xie:写谢
xin:新心 xing:行 xiong:兄 xiu:修 xu:需许 xuan:选 xue:学 xun:寻 ya:呀 yan:严 yang:样 yao:要
ye:也 yi:一 yin:因 ying:应 yong:用 you:有 yu:与 yuan:元 yue:月粤 yun:云 za:杂 zai:在 zan:咱
zang:脏 zao:早 ze:则 zen:怎 zeng:增 zha:扎 zhai:窄 zhan:站 zhang:张 zhao:找 zhe:这 zhen:真
zheng:正 zhi:只 zhong:中 zhou:周 zhu:住 zhua:抓 zhuan:转 zhuang:装 zhui:追 zhun:准 zhuo:桌
zi:子 zong:总 zou:走 zu:组 zuan:钻 zui:最 zun:尊 zuo:做
"""

SYLLABLES: dict[str, str] = {}
for _item in _RAW.split():
    _key, _, _chars = _item.partition(":")
    SYLLABLES[_key] = SYLLABLES.get(_key, "") + _chars

#: Common words (syllables joined) offered before single characters.
WORDS: dict[str, tuple[str, ...]] = {
    "jiufen": ("纠纷",),
    "linju": ("邻居",),
    "zaoyin": ("噪音",),
    "shenfenzheng": ("身份证",),
    "huji": ("户籍",),
    "jiaotong": ("交通",),
    "anquan": ("安全",),
    "yinhuan": ("隐患",),
    "jinggai": ("井盖",),
    "dianxian": ("电线",),
    "tingche": ("停车",),
    "xiaoqu": ("小区",),
    "shequ": ("社区",),
    "lukou": ("路口",),
    "dalu": ("大路",),
    "gongyuan": ("公园",),
    "xuexiao": ("学校",),
    "shangdian": ("商店",),
    "pianzi": ("骗子",),
    "zhapian": ("诈骗",),
    "shouji": ("手机",),
    "zhongguo": ("中国",),
    "shenzhen": ("深圳",),
    "guangzhou": ("广州",),
    "beijing": ("北京",),
    "futian": ("福田",),
    "nanshan": ("南山",),
    "luohu": ("罗湖",),
    "shennan": ("深南",),
}
