"""Simplified or Traditional: the Chinese script a message is written in, told by the common
characters that differ between the two, and a "zh" that remembers it for the fixed texts."""

from __future__ import annotations

# Traditional and Simplified forms of common characters (health words first), pair by pair.
# Only pairs whose Simplified form is no Traditional character in everyday use: 後/后 is not
# one (皇后), 況/况 neither (况 is common in Hong Kong); those are in TRADITIONAL_ONLY.
_PAIRS = """
這这 們们 個个 會会 說说 來来 時时 醫医 藥药 體体 頭头 為为 麼么 嗎吗 與与 對对 還还 沒没
從从 開开 關关 發发 問问 題题 點点 過过 現现 給给 讓让 見见 覺觉 經经 歲岁 飯饭 燒烧 熱热
氣气 腦脑 臟脏 腸肠 膚肤 癢痒 壓压 嚴严 懷怀 歡欢 謝谢 請请 該该 應应 診诊 療疗 檢检 驗验
臉脸 嚨咙 腫肿 脹胀 無无 兩两 長长 邊边 種种 樣样 實实 際际 學学 兒儿 媽妈 爺爷 寶宝 貝贝
嬰婴 員员 師师 號号 電电 話话 傷伤 斷断 緊紧 難难 條条 級级 狀状 變变 轉转 換换 買买 賣卖
錢钱 貴贵 飲饮 劑剂 針针 術术 輸输 顆颗 處处 記记 憶忆 憂忧 慮虑 緒绪 煩烦 悶闷 夢梦 聽听
聲声 帶带 動动 運运 練练 習习 慣惯 壞坏 總总 極极 則则 雖虽 當当 齒齿 顯显 歷历 書书 讀读
寫写 結结 愛爱 親亲 陽阳 陰阴 濕湿 燙烫 膿脓 腎肾 膽胆 鐘钟 幫帮 訴诉 認认 識识 誤误 議议
試试 調调 節节 圍围 區区 國国 陸陆 灣湾 華华 門门 間间 閉闭 聞闻 頸颈 項项 順顺 顧顾 預预
頻频 類类 顏颜 額额 風风 飛飞 馬马 魚鱼 鳥鸟 麥麦 齡龄 龍龙 車车 軟软 輕轻 較较 辦办 達达
遲迟 適适 選选 遺遗 鄰邻 釋释 鉀钾 鈣钙 鐵铁 鋅锌 鏡镜 陣阵 陳陈 隨随 險险 雙双 雜杂 離离
響响 頁页 須须 領领 養养 餓饿 驚惊 髒脏 鬧闹 齊齐 專专 業业 東东 絲丝 亂乱 產产 傳传 僅仅
價价 備备 優优 盡尽 凍冻 漸渐 創创 務务 勞劳 協协 單单 衛卫 參参 啟启 嚇吓 圖图 團团 報报
場场 塊块 婦妇 寧宁 審审 將将 導导 層层 廣广 張张 彎弯 態态 擔担 擊击 擠挤 數数 標标 機机
權权 歸归 殘残 淺浅 測测 湯汤 滿满 潰溃 澀涩 濃浓 災灾 營营 獨独 獲获 環环 畫画 癱瘫 監监
盤盘 眾众 礙碍 確确 禮礼 穩稳 窩窝 簡简 紀纪 約约 紅红 純纯 紙纸 細细 組组 終终 絕绝 統统
綜综 維维 網网 線线 緩缓 縮缩 續续 繼继 義义 聯联 職职 膠胶 臨临 興兴 舊旧 補补 裝装 規规
視视 觀观 觸触 計计 設设 許许 詞词 詳详 語语 誰谁 課课 談谈 論论 證证 護护 負负 費费 資资
質质 購购 趕赶 軀躯 輔辅 農农 連连 進进 違违 遠远 錯错 鍛锻 隊队 階阶 隱隐 靈灵 飽饱 館馆
驅驱 鹽盐 嘔呕 瀉泻 癲癫 癇痫 瘋疯 癬癣 瘍疡 臍脐 頰颊 齦龈 聾聋 啞哑 暈晕 惡恶 蕁荨 嘆叹
噴喷 糧粮 嚐尝 嗆呛 複复 賽赛 贏赢 籃篮 戲戏 樂乐 詩诗 讚赞 殺杀
""".split()
# Traditional characters whose Simplified form is also written in Traditional text (后, 里, 面…).
TRADITIONAL_ONLY = ("後裡裏麵乾幹餘臺於鬆製雲範願據遊衝託諮準鬥黴穀隻髮復醜鹹捨劃儘採鬍腳況並溫"
                    "靜黃減卻夠強曬淚煙爭脈蟲貓係餵鬱噁痠週幾")
TRADITIONAL = frozenset("".join(pair[0] for pair in _PAIRS) + TRADITIONAL_ONLY)
SIMPLIFIED = frozenset(pair[1] for pair in _PAIRS)


def script(text: str) -> str:
    """"hant" when more of the message's characters are Traditional-only than Simplified-only,
    else "hans" (a tie, or no such character: Simplified, the script most Chinese writers use)."""
    traditional = sum(c in TRADITIONAL for c in text)
    simplified = sum(c in SIMPLIFIED for c in text)
    return "hant" if traditional > simplified else "hans"


class Chinese(str):
    """The language code "zh" (equal to it, hashed and printed as it) that also knows the
    script its message was written in: code keyed on the language sees "zh", the fixed texts
    follow the script (see text_code)."""

    script: str

    def __new__(cls, script: str = "hans") -> Chinese:
        code = super().__new__(cls, "zh")
        code.script = script
        return code

    def __getnewargs__(self) -> tuple[str]:  # copies and pickles keep the script
        return (self.script,)


def chinese(text: str) -> Chinese:
    """"zh" for a message, with the script it is written in."""
    return Chinese(script(text))


def text_code(language: str) -> str:
    """The code of the fixed texts for a language: "zh-hant" for "zh" in Traditional script."""
    return "zh-hant" if getattr(language, "script", "") == "hant" else str(language)
