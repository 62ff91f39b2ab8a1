"""The rule layer: rule loading, normalisation, negation, idioms, typos and the dev-set bar."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.triage import RuleTriage, TriageResult, fold, load_rules

REPO = Path(__file__).resolve().parents[1]
DEV_SET = REPO.parent / "shared" / "triage" / "dev.jsonl"

# Own paraphrases: (text, category). Written before the rules were tuned; not from the dev set.
EMERGENCY: list[tuple[str, str]] = [
    # cardiac
    ("I have a heavy pressure in my chest and I'm breaking out in a cold sweat", "cardiac"),
    ("chest feels like an elephant is sitting on it and the pain goes down my left arm", "cardiac"),
    ("my husband is clutching his chest, says it hurts and he can't catch his breath", "cardiac"),
    ("sudden severe chest pain, I feel sick and dizzy", "cardiac"),
    ("I think I'm having a heart attack", "cardiac"),
    ("tightness in my chest that moves up into my jaw", "cardiac"),
    ("Tengo un dolor opresivo en el pecho que se me va al brazo izquierdo", "cardiac"),
    ("mi padre tiene dolor en el pecho y está sudando frío", "cardiac"),
    ("creo que me está dando un infarto", "cardiac"),
    ("胸口像被大石頭壓住，左手臂也在痛，一直冒冷汗", "cardiac"),
    ("我爸說他胸口很痛，還一直流汗", "cardiac"),
    ("胸口很闷很痛，还出冷汗", "cardiac"),
    # stroke
    ("half of my mom's face is drooping and she can't raise her right arm", "stroke"),
    ("my wife's words are coming out garbled and her smile is lopsided", "stroke"),
    ("suddenly I can't feel the left side of my body", "stroke"),
    ("I think my grandfather is having a stroke", "stroke"),
    ("worst headache I've ever had, came out of nowhere a few minutes ago", "stroke"),
    ("A mi abuela se le cayó un lado de la cara y arrastra las palabras", "stroke"),
    ("mi papá de repente no puede mover el brazo derecho", "stroke"),
    ("el peor dolor de cabeza de mi vida, empezó de golpe", "stroke"),
    ("我媽突然嘴歪，講話不清楚", "stroke"),
    ("爺爺半邊身體沒力，手舉不起來", "stroke"),
    # breathing
    ("I can't breathe, please help", "breathing"),
    ("my baby's lips are turning blue", "breathing"),
    ("he is gasping for air and can't talk", "breathing"),
    ("my son is choking on a grape", "breathing"),
    ("my inhaler isn't helping and I can barely breathe", "breathing"),
    ("my dad isn't breathing", "breathing"),
    ("Mi hijo no puede respirar", "breathing"),
    ("se está ahogando y tiene los labios morados", "breathing"),
    ("我沒辦法呼吸", "breathing"),
    ("寶寶嘴唇發紫", "breathing"),
    # anaphylaxis
    ("ate a peanut cookie and now my throat feels like it's closing up", "anaphylaxis"),
    ("after the wasp sting her tongue is swelling and she's wheezing", "anaphylaxis"),
    ("allergic to shellfish, had shrimp, now it's hard to breathe and my face is swelling",
     "anaphylaxis"),
    ("Me picó una abeja y se me está cerrando la garganta", "anaphylaxis"),
    ("comió maní y tiene la lengua hinchada", "anaphylaxis"),
    ("被蜜蜂叮到後喉嚨腫起來，呼吸有咻咻聲", "anaphylaxis"),
    ("吃了花生以後舌頭腫起來", "anaphylaxis"),
    # bleeding
    ("blood is spurting from the cut on my wrist", "bleeding"),
    ("I'm bleeding heavily from a wound on my thigh", "bleeding"),
    ("my son's nosebleed hasn't stopped for 40 minutes", "bleeding"),
    ("I'm throwing up blood", "bleeding"),
    ("Me corté la mano y no para de sangrar", "bleeding"),
    ("está sangrando mucho, sale a chorros", "bleeding"),
    ("estoy vomitando sangre", "bleeding"),
    ("手割到了，血一直流止不住", "bleeding"),
    ("我一直吐血", "bleeding"),
    # overdose / poisoning
    ("I swallowed a whole bottle of tylenol", "overdose_poisoning"),
    ("my toddler drank some bleach", "overdose_poisoning"),
    ("she overdosed on her antidepressants", "overdose_poisoning"),
    ("took 40 paracetamol tablets last night", "overdose_poisoning"),
    ("my kid swallowed a button battery", "overdose_poisoning"),
    ("Me tomé todas las pastillas para dormir", "overdose_poisoning"),
    ("mi hija bebió lejía", "overdose_poisoning"),
    ("我吞了一整瓶安眠藥", "overdose_poisoning"),
    ("小孩喝了漂白水", "overdose_poisoning"),
    # suicide / self-harm
    ("I want to end my life", "suicide_self_harm"),
    ("I'm going to kill myself tonight", "suicide_self_harm"),
    ("I've been cutting myself again", "suicide_self_harm"),
    ("everyone would be better off without me", "suicide_self_harm"),
    ("I don't want to be alive anymore", "suicide_self_harm"),
    ("feeling suicidal", "suicide_self_harm"),
    ("Quiero suicidarme", "suicide_self_harm"),
    ("ya no quiero vivir", "suicide_self_harm"),
    ("he pensado en quitarme la vida", "suicide_self_harm"),
    ("我不想活了", "suicide_self_harm"),
    ("我想自殺", "suicide_self_harm"),
    ("我想自杀", "suicide_self_harm"),
    ("我一直在割腕", "suicide_self_harm"),
    # seizure
    ("my son has been seizing for 10 minutes", "seizure"),
    ("she's having one seizure after another", "seizure"),
    ("my husband's fit won't stop", "seizure"),
    ("he's convulsing and it has gone on for over five minutes", "seizure"),
    ("Mi hijo lleva más de 5 minutos convulsionando", "seizure"),
    ("tiene una convulsión tras otra", "seizure"),
    ("他抽搐超過五分鐘了還沒停", "seizure"),
    ("小孩一直抽搐停不下來", "seizure"),
    # unresponsive
    ("my dad collapsed and isn't responding", "unresponsive"),
    ("I can't wake my grandmother up", "unresponsive"),
    ("my friend is unconscious", "unresponsive"),
    ("my mum won't wake up", "unresponsive"),
    ("Mi abuelo no responde", "unresponsive"),
    ("está inconsciente", "unresponsive"),
    ("我爸爸昏倒叫不醒", "unresponsive"),
    ("奶奶失去意識了", "unresponsive"),
    # infant fever
    ("my newborn has a temperature of 38.2", "infant_fever"),
    ("two month old with a fever", "infant_fever"),
    ("my 3 week old son feels hot and his temperature is 38", "infant_fever"),
    ("fever in my 7-week-old", "infant_fever"),
    ("Mi bebé de 6 semanas tiene fiebre", "infant_fever"),
    ("mi recién nacido tiene 38 de fiebre", "infant_fever"),
    ("我的寶寶兩個月大，發燒38.5度", "infant_fever"),
    ("剛出生三週的寶寶發燒了", "infant_fever"),
    # meningitis
    ("high fever and a stiff neck, light hurts my eyes", "meningitis"),
    ("my daughter has a rash that doesn't disappear when I press a glass against it", "meningitis"),
    ("fever and headache, I can't touch my chin to my chest because my neck is so stiff",
     "meningitis"),
    ("Fiebre alta y rigidez en la nuca", "meningitis"),
    ("tiene fiebre y manchas que no desaparecen al presionar con un vaso", "meningitis"),
    ("發燒、脖子僵硬、頭很痛", "meningitis"),
    ("發燒還有紫色的疹子，壓了不會褪", "meningitis"),
    # head injury
    ("my son fell off his bike and hit his head, he's throwing up and very sleepy", "head_injury"),
    ("hit my head on a shelf and now I'm confused", "head_injury"),
    ("she banged her head and was knocked out for a minute", "head_injury"),
    ("Mi hijo se cayó y se golpeó la cabeza, ahora vomita", "head_injury"),
    ("se dio un golpe en la cabeza y está confundido", "head_injury"),
    ("我媽跌倒撞到頭，一直嘔吐", "head_injury"),
    ("小孩撞到頭之後很嗜睡", "head_injury"),
]

URGENT: list[str] = [
    "fever of 38.8 that hasn't broken in 5 days",
    "I've been running a temperature for a week",
    "there's blood in my urine",
    "I noticed blood on the toilet paper when I wipe",
    "I have a hard lump in my armpit that keeps growing",
    "I'm losing weight and I'm not trying to",
    "I get breathless walking short distances, which never used to happen",
    "chest pain when I take a deep breath, for 2 days now",
    "I twisted my knee, it's really swollen and I can't walk on it",
    "I think I broke my wrist",
    "I had a seizure yesterday, first time ever",
    "severe pain in the lower right side of my belly",
    "I've been coughing for 4 weeks",
    "it burns when I pee and I have a fever with chills",
    "I'm 30 weeks pregnant and the baby is moving less",
    "my mother has been confused for two days",
    "hit my head yesterday, I feel fine but there is a bump",
    "my calf is swollen, red and painful",
    "Tengo fiebre desde hace cinco días",
    "encontré un bulto en el pecho",
    "hay sangre en mis heces",
    "me torcí el tobillo y no puedo apoyar el pie",
    "me falta el aire cuando subo escaleras",
    "me duele el pecho desde ayer",
    "發燒五天了還沒退",
    "大便有血",
    "乳房摸到一個硬塊",
    "最近爬樓梯很容易喘",
    "腳踝扭到，腫起來不能走路",
    "沒有節食，但兩個月瘦了8公斤",
]

ROUTINE_TEXTS: list[str] = [
    "What causes heartburn after meals?",
    "How long does a cold usually last?",
    "Is it safe to take ibuprofen with coffee?",
    "I have a mild headache from not sleeping enough",
    "what are the warning signs of a stroke?",
    "how is meningitis spread?",
    "my knee clicks when I climb stairs",
    "Can anxiety cause chest pain?",
    "how much paracetamol is safe per day",
    "I have a sore throat and a runny nose",
    "¿Qué es la diabetes?",
    "¿Cuánto paracetamol puedo tomar al día?",
    "喉嚨痛要吃什麼藥？",
    "中風的症狀有哪些？",
    "高血壓要注意什麼",
]

NEGATED: list[str] = [
    "no chest pain, no shortness of breath, just a stuffy nose",
    "I'm not suicidal, just stressed about exams",
    "my breathing is fine, I just have a dry cough",
    "I don't have a fever and the rash is not spreading",
    "there is no bleeding now, the cut closed up nicely",
    "I haven't had any chest pain, only a cough",
    "no tengo dolor de pecho, solo tos",
    "no me quiero suicidar, solo estoy triste",
    "mi respiración está bien, pero estoy cansado",
    "我沒有胸痛，只是有點咳嗽",
    "我不想自殺，只是心情不好",
    "呼吸很正常，就是容易累",
]

FIGURES_OF_SPEECH: list[str] = [
    "this deadline is killing me",
    "I'm dying to know if coffee is bad for you",
    "I almost had a heart attack when I saw the bill",
    "I nearly died laughing at that video, can laughing hurt your ribs?",
    "my boss is going to kill me if I'm late again",
    "I have to kill an hour before my appointment",
    "me muero de risa con este video",
    "este trabajo me está matando",
    "me muero de hambre",
    "笑死我了",
    "累死了，今天加班到半夜",
    "想死你了！",
    "熱死了",
]

TYPOS: list[str] = [
    "chest pian and sweating alot",
    "i cant breath",
    "i want to commit suicde",
    "my son is having a siezure that wont stop",
    "she is unconcious",
    "the bleding wont stop",
    "no puedo resprar",
    "quiero suisidarme",
]


# Later rounds (levels only): two fresh paraphrase sets written after the rules existed, then
# adversarial negation cases. First, untuned runs: round 2 (129 messages) emergency recall
# 60/66, urgent-or-higher 88/97, routine->emergency 0/32; round 3 (87) 43/47, 63/65, 0/22.
LATER_ROUNDS: list[tuple[str, str]] = [
    ("emergency",
     "Started having this squeezing feeling in the middle of my chest about half an "
     "hour ago, now I feel clammy and nauseous"),
    ("emergency", "My 70 year old dad says his chest is really tight and his left arm feels heavy"),
    ("emergency", "pain in chest going into my back and jaw, very sweaty, what do I do"),
    ("emergency", "my mum's speech suddenly went weird and one side of her mouth is drooping"),
    ("emergency", "My husband just collapsed, he's breathing but we can't wake him"),
    ("emergency", "grandpa's face looks lopsided and his words make no sense, started an hour ago"),
    ("emergency", "I woke up and the right side of my body is numb and I can't grip anything"),
    ("emergency", "my daughter is wheezing really badly and her lips are going blue"),
    ("emergency", "having a really bad asthma attack and my blue inhaler isn't working"),
    ("emergency", "I'm struggling to breathe even sitting still and I can only say a few words"),
    ("emergency", "my toddler put a button battery in his mouth and I think he swallowed it"),
    ("emergency", "I just took 25 of my mum's sleeping tablets"),
    ("emergency", "my friend took a load of pills and now she's really drowsy and slurring"),
    ("emergency", "my son accidentally drank some dishwasher liquid"),
    ("emergency", "I have a plan to end my life this weekend"),
    ("emergency", "honestly I just want to die, there's no point anymore"),
    ("emergency", "i keep thinking about killing myself"),
    ("emergency", "I've been self harming and cut too deep this time"),
    ("emergency", "can't stop thinking about jumping off the bridge near my flat"),
    ("emergency", "he's been fitting for about 6 minutes and isn't stopping"),
    ("emergency", "my baby is having seizures back to back"),
    ("emergency", "my 5 week old has a temp of 38.4"),
    ("emergency", "newborn (10 days old) feels very hot and is feeding poorly"),
    ("emergency", "my 8 week old daughter has a fever and won't feed"),
    ("emergency",
     "my son has a high temperature, a headache and says light hurts his eyes, and his"
     " neck is stiff"),
    ("emergency",
     "she has little purple spots on her legs that don't go away when I press a glass "
     "on them"),
    ("emergency", "my kid fell down the stairs, hit his head and has thrown up three times"),
    ("emergency", "after a fall my dad banged his head, he's on warfarin and now very sleepy"),
    ("emergency", "I was stung by a wasp and now my lips and tongue are swelling and I feel faint"),
    ("emergency",
     "I'm having an allergic reaction to nuts, my throat feels tight and I'm wheezing"),
    ("emergency", "I sliced my hand with a knife and it's pouring blood, won't stop"),
    ("emergency", "my husband is vomiting large amounts of blood"),
    ("emergency", "my wife is unconscious on the bathroom floor"),
    ("emergency", "found my roommate not breathing"),
    ("emergency", "sudden worst headache ever, like being hit with a bat"),
    ("emergency", "I think I'm having a stroke, my arm is weak and my face feels droopy"),
    ("emergency", "elderly neighbour fell, hit her head and is now confused about where she is"),
    ("emergency", "Mi esposo tiene un dolor muy fuerte en el pecho y le cuesta respirar"),
    ("emergency", "siento presión en el pecho y sudor frío desde hace 20 minutos"),
    ("emergency", "a mi madre se le torció la boca y no puede hablar bien"),
    ("emergency", "mi hijo se está ahogando con un caramelo"),
    ("emergency", "tengo ganas de morir, ya no aguanto vivir así"),
    ("emergency", "me quiero matar"),
    ("emergency", "mi bebé de 3 semanas tiene fiebre de 38"),
    ("emergency", "mi abuela se desmayó y no reacciona"),
    ("emergency", "mi hijo se tomó un montón de pastillas de su abuela"),
    ("emergency", "tengo una herida que sangra a chorros"),
    ("emergency", "lleva convulsionando más de diez minutos"),
    ("emergency", "me picó una avispa y se me hinchó la lengua"),
    ("emergency", "se cayó de la escalera, se golpeó la cabeza y está vomitando"),
    ("emergency", "fiebre alta y el cuello rígido, no puede doblarlo"),
    ("emergency", "no puede respirar y tiene los labios azules"),
    ("emergency", "我胸口好悶好痛，左手也麻麻的，一直冒冷汗"),
    ("emergency", "我爸突然講話不清楚，右手舉不起來"),
    ("emergency", "我媽媽臉歪一邊，口齒不清"),
    ("emergency", "我快不能呼吸了"),
    ("emergency", "寶寶才一個月大，發燒到38.3度"),
    ("emergency", "我真的不想活了，想結束自己的生命"),
    ("emergency", "我弟弟吃了一整盒安眠藥"),
    ("emergency", "孩子抽搐已經十分鐘了還沒停"),
    ("emergency", "爺爺跌倒撞到頭，現在意識不清"),
    ("emergency", "被蜜蜂螫到以後喉嚨很緊，呼吸困難"),
    ("emergency", "手被刀割到，血流不止"),
    ("emergency", "老公昏倒了，叫他都沒反應"),
    ("emergency", "发烧，脖子很硬，头很痛"),
    ("emergency", "我想自杀"),
    ("urgent", "my temperature has been around 38.5 on and off for a week"),
    ("urgent", "I've had diarrhoea for 5 days and feel weak"),
    ("urgent", "I've noticed some bright red blood when I go to the toilet"),
    ("urgent", "my urine has been dark brown with some blood"),
    ("urgent", "there's a small painless lump on my neck that has been getting bigger"),
    ("urgent", "I have lost almost a stone over the last couple of months without dieting"),
    ("urgent", "I get short of breath climbing one flight of stairs which is new for me"),
    ("urgent", "my left leg calf is swollen, warm and sore since my flight"),
    ("urgent", "fell off my bike, wrist is swollen and bent at a weird angle"),
    ("urgent", "I have sharp pain in my lower right abdomen that's getting worse"),
    ("urgent", "I had my first ever seizure last night, I'm fine now"),
    ("urgent", "I've had a headache every day for 3 weeks and it's worse in the mornings"),
    ("urgent", "my mole has gotten bigger and bleeds sometimes"),
    ("urgent", "painful peeing, fever and pain in my side"),
    ("urgent", "my chest hurts when I cough, had a cold for a week"),
    ("urgent", "I've been coughing up blood-streaked phlegm"),
    ("urgent", "My 4 month old has a fever of 38.5"),
    ("urgent", "I bumped my head on a cupboard this morning, got a lump, no other symptoms"),
    ("urgent", "My vision in one eye has gone blurry over the past week"),
    ("urgent", "I feel hopeless and can't cope anymore"),
    ("urgent", "tengo sangre en la orina desde hace dos días"),
    ("urgent", "llevo una semana con fiebre"),
    ("urgent", "me salió un bulto en el cuello que va creciendo"),
    ("urgent", "me caí y no puedo apoyar la pierna"),
    ("urgent", "he bajado 8 kilos sin hacer dieta"),
    ("urgent", "me duele el pecho cuando respiro hondo"),
    ("urgent", "發燒一個禮拜了"),
    ("urgent", "小便會痛，還有發燒跟腰痛"),
    ("urgent", "脖子摸到一顆腫塊，越來越大"),
    ("urgent", "最近走路就喘"),
    ("urgent", "咳血"),
    ("routine", "Is it normal for my heart to race after drinking coffee?"),
    ("routine", "how do I know if a cut needs stitches?"),
    ("routine", "what is the best way to lower cholesterol?"),
    ("routine", "my son has had a runny nose and a mild cough for two days"),
    ("routine", "What are the early signs of a heart attack I should watch out for?"),
    ("routine", "I'm not short of breath, but I've had a sore throat"),
    ("routine", "no fever, no rash, just feeling tired"),
    ("routine", "I'm so bored I could die"),
    ("routine", "this heat is killing me, how much water should I drink?"),
    ("routine", "my back is killing me after moving house"),
    ("routine", "my teenager has acne, what can help?"),
    ("routine", "I had a stroke 5 years ago, is it ok to fly?"),
    ("routine", "my dad had a heart attack years ago, should I get my cholesterol checked?"),
    ("routine", "how many ibuprofen can I take in a day?"),
    ("routine", "what does it mean if my blood pressure is 120/80?"),
    ("routine", "I feel a bit dizzy when I stand up quickly"),
    ("routine", "can you overdose on vitamin D?"),
    ("routine", "what should I do if someone is having a seizure?"),
    ("routine", "My husband snores and sometimes stops breathing in his sleep"),
    ("routine", "I cut myself shaving, how do I stop a small cut from bleeding?"),
    ("routine", "¿Cuáles son los síntomas de un infarto?"),
    ("routine", "tengo un poco de tos y mocos"),
    ("routine", "no tengo fiebre ni dolor, solo cansancio"),
    ("routine", "me muero de sueño todos los días, ¿es normal?"),
    ("routine", "¿Cómo se previene un ictus?"),
    ("routine", "me duele la cabeza cuando no duermo bien"),
    ("routine", "感冒流鼻水要吃什麼"),
    ("routine", "我沒有發燒，也沒有咳嗽，只是喉嚨有點乾"),
    ("routine", "氣死我了，醫生都不理我"),
    ("routine", "怎麼預防中風？"),
    ("routine", "嚇死我了，還以為是心臟病"),
    ("routine", "頭有點痛，是不是睡不夠"),
    ("emergency", "Creo que mi papá está teniendo un infarto, se agarra el pecho y está pálido"),
    ("emergency", "Tengo una opresión horrible en el pecho que me baja por el brazo"),
    ("emergency", "Mi mamá de repente no puede mover la mitad del cuerpo"),
    ("emergency", "mi abuelo habla raro y tiene la cara caída de un lado"),
    ("emergency", "no puedo respirar bien, me ahogo"),
    ("emergency", "mi hija tiene la cara morada y no respira"),
    ("emergency", "le dio una reacción alérgica al maní y no puede respirar"),
    ("emergency", "me hice un corte profundo y no deja de salir sangre"),
    ("emergency", "mi hermano tomó veneno para ratas"),
    ("emergency", "ingirió 20 pastillas de paracetamol"),
    ("emergency", "estoy pensando en suicidarme"),
    ("emergency", "me estoy cortando los brazos otra vez"),
    ("emergency", "no quiero seguir viviendo"),
    ("emergency", "tiene una convulsión que no para"),
    ("emergency", "mi papá está inconsciente y no lo podemos despertar"),
    ("emergency", "mi recién nacida tiene calentura"),
    ("emergency", "fiebre, dolor de cabeza terrible y manchas moradas en la piel"),
    ("emergency", "mi hijo se golpeó la cabeza jugando fútbol y ahora está muy confundido"),
    ("emergency", "dolor de pecho muy intenso y estoy sudando mucho"),
    ("emergency", "我老公突然胸口劇痛，痛到冒汗"),
    ("emergency", "媽媽說胸口很悶，喘不過氣來"),
    ("emergency", "阿公突然半邊身體不能動"),
    ("emergency", "我女兒嘴唇變紫色了"),
    ("emergency", "孩子吃到花生後喉嚨腫起來，沒辦法呼吸"),
    ("emergency", "割到大動脈，血一直噴"),
    ("emergency", "我朋友吞了很多顆藥"),
    ("emergency", "我想死，活著沒意義"),
    ("emergency", "我又開始自殘了"),
    ("emergency", "他一直抽搐，叫不醒"),
    ("emergency", "奶奶昏迷不醒"),
    ("emergency", "三週大的嬰兒發燒"),
    ("emergency", "女兒發高燒，身上出現紫色斑點，按壓不會消失"),
    ("emergency", "小孩從床上摔下來撞到頭，之後一直吐"),
    ("emergency", "突然頭痛欲裂，這輩子最痛的頭痛"),
    ("emergency", "my hubby is grey, sweating and says there's a weight on his chest"),
    ("emergency", "Help! My baby stopped breathing for a bit and now looks blue"),
    ("emergency", "I swallowed half a bottle of paracetamol an hour ago"),
    ("emergency", "my brother is passed out and we cant get him to respond"),
    ("emergency", "she took an overdose of her meds"),
    ("emergency", "i want to kil myself"),
    ("emergency", "my dad cant move his right side and cant speak properly"),
    ("emergency", "im bleeding alot and it wont stop"),
    ("emergency", "mom has a siezure for over 5 mins"),
    ("emergency", "my six-week-old is burning up"),
    ("emergency", "allergic to bees, just got stung and my throat is closing"),
    ("emergency", "I have chest pressure, feel like throwing up and I'm drenched in sweat"),
    ("emergency", "Please help, my little boy swallowed some of my blood pressure pills"),
    ("urgent", "tengo tos desde hace un mes"),
    ("urgent", "me encontré una bolita en el testículo"),
    ("urgent", "llevo cinco días con fiebre de 38"),
    ("urgent", "creo que me fracturé el dedo del pie"),
    ("urgent", "tengo heces negras desde ayer"),
    ("urgent", "me arde al orinar y tengo fiebre y dolor en la espalda"),
    ("urgent", "我咳嗽咳了一個月"),
    ("urgent", "尿尿有血"),
    ("urgent", "最近瘦了五公斤，不知道為什麼"),
    ("urgent", "胸口悶悶的，已經兩天了"),
    ("urgent", "手腕可能骨折了"),
    ("urgent", "右下腹很痛"),
    ("urgent", "high fever of 40 since yesterday"),
    ("urgent", "I've got a really bad migraine that won't go away after 3 days"),
    ("urgent", "my ankle might be broken, it's purple and I can't stand on it"),
    ("urgent", "found a lump in my testicle"),
    ("urgent", "I've been losing weight for no reason"),
    ("urgent", "there's blood in my poo"),
    ("routine", "¿Es malo tomar café si tengo gastritis?"),
    ("routine", "no me duele el pecho, solo tengo ansiedad"),
    ("routine", "me muero de calor, ¿cuánta agua debo beber?"),
    ("routine", "¿Qué es una convulsión febril?"),
    ("routine", "mi bebé tiene los mocos verdes pero no tiene fiebre"),
    ("routine", "casi me da un infarto cuando vi el precio"),
    ("routine", "mi jefe me está matando con tanto trabajo"),
    ("routine", "我沒有自殺的念頭，只是有點壓力"),
    ("routine", "忙死了，沒時間吃飯"),
    ("routine", "工作壓力大到喘不過氣"),
    ("routine", "心肌梗塞的前兆是什麼？"),
    ("routine", "寶寶沒有發燒，只是有點咳嗽"),
    ("routine", "笑到肚子痛"),
    ("routine", "I don't feel suicidal at all, I just can't sleep"),
    ("routine", "no blood in my stool, just some constipation"),
    ("routine", "my kids are driving me crazy, I'm going to lose my mind"),
    ("routine", "I could kill for a burger right now"),
    ("routine", "that movie scene took my breath away"),
    ("routine", "Is a temperature of 37.5 a fever?"),
    ("routine", "what happens if you take too much paracetamol?"),
    ("routine", "how can I tell if my baby has a fever?"),
    ("routine", "My eyes are itchy and watery in spring"),
    ("emergency", "I don't know what's happening, I can't breathe"),
    ("emergency",
     "I didn't think it was serious but now the pain in my chest is crushing and I'm "
     "sweating"),
    ("emergency", "I haven't been able to breathe properly for the last hour"),
    ("emergency", "nothing I do stops the bleeding"),
    ("emergency", "I've never felt pain like this in my chest, I'm sweating buckets"),
    ("emergency", "no one can wake my dad up"),
    ("emergency", "she hasn't stopped seizing for 10 minutes"),
    ("emergency", "I don't have asthma but I suddenly can't breathe"),
    ("emergency", "no history of heart problems, but crushing chest pain and sweating now"),
    ("emergency", "I don't think he's breathing"),
    ("emergency", "sin previo aviso se me durmió medio lado del cuerpo"),
    ("emergency", "no sé qué hacer, mi hijo no respira"),
    ("emergency", "我不知道怎麼辦，我爸沒有呼吸了"),
    ("emergency", "我沒有心臟病史，但現在胸口劇痛冒冷汗"),
    ("emergency", "不知道為什麼，突然嘴歪講話不清楚"),
    ("routine", "I don't have any chest pain or shortness of breath, just heartburn"),
    ("routine", "I was suicidal years ago but I'm doing well now"),
    ("routine", "my baby is 6 weeks old, no fever, just fussy"),
    ("routine", "What temperature counts as a fever in a 2 month old?"),
    ("routine", "how do you know if someone is having a stroke?"),
    ("routine", "my period bleeding is heavy, is that normal?"),
    ("routine", "I want to die my hair red, is it safe during pregnancy?"),
    ("routine", "I'm allergic to peanuts, what snacks are safe?"),
    ("routine", "my grandpa had a stroke 3 years ago, how can I help his recovery?"),
    ("routine", "no tengo pensamientos suicidas"),
    ("routine", "mi bebé de 2 meses no tiene fiebre, solo llora mucho"),
    ("routine", "我沒有呼吸困難，只是鼻塞"),
    ("routine", "寶寶兩個月大，沒有發燒"),
    ("routine", "我不會自殺，放心"),
]

@pytest.fixture(scope="module")
def triage() -> RuleTriage:
    """The shipped rules, loaded once for the module."""
    return load_rules()


def _level(triage: RuleTriage, text: str) -> str:
    """The level the triage gives `text`."""
    return triage.classify(text).level


@pytest.mark.parametrize(("text", "category"), EMERGENCY)
def test_emergency_paraphrases(triage: RuleTriage, text: str, category: str) -> None:
    """Every red-flag paraphrase is an emergency of the right category."""
    result = triage.classify(text)
    assert (result.level, result.category) == ("emergency", category), result


@pytest.mark.parametrize("text", URGENT)
def test_urgent_paraphrases(triage: RuleTriage, text: str) -> None:
    """See-a-doctor-soon messages are urgent, not routine and not emergencies."""
    assert _level(triage, text) == "urgent", triage.classify(text)


@pytest.mark.parametrize("text", ROUTINE_TEXTS + NEGATED + FIGURES_OF_SPEECH)
def test_routine(triage: RuleTriage, text: str) -> None:
    """General questions, negations and figures of speech are routine."""
    assert triage.classify(text) == TriageResult("routine", ""), text


@pytest.mark.parametrize(("level", "text"), LATER_ROUNDS)
def test_later_rounds(triage: RuleTriage, level: str, text: str) -> None:
    """Later paraphrase rounds and adversarial negations get their labelled level."""
    assert _level(triage, text) == level, triage.classify(text)


@pytest.mark.parametrize("text", TYPOS)
def test_typos_still_emergency(triage: RuleTriage, text: str) -> None:
    """One-edit misspellings of key words still raise the alarm."""
    assert _level(triage, text) == "emergency", text


@pytest.mark.parametrize(
    ("text", "category"),
    [("my mom 突然嘴歪 and she can't talk properly", "stroke"),
     ("Doctor, mi hijo can't breathe", "breathing"),
     ("我好想自殺 honestly", "suicide_self_harm"),
     ("no fever, but I can't breathe", "breathing"),
     ("I'm not sure what's going on, I want to kill myself", "suicide_self_harm"),
     ("I took a whole bottle of pills because I want to die", "suicide_self_harm")],
)
def test_mixed_and_tricky(triage: RuleTriage, text: str, category: str) -> None:
    """Mixed languages, a negation in another clause and overlapping categories."""
    result = triage.classify(text)
    assert (result.level, result.category) == ("emergency", category), result


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "?!", "👍", "ok", "hola", "謝謝"])
def test_empty_and_trivial(triage: RuleTriage, text: str) -> None:
    """Nothing to triage is routine, with an empty category and rule."""
    assert triage.classify(text) == TriageResult("routine", "", "")


def test_very_long_text(triage: RuleTriage) -> None:
    """A 50,000-character message is handled quickly and a late red flag is still found."""
    filler = "I went for a walk and had some tea with my neighbour. " * 900
    start = time.perf_counter()
    assert _level(triage, filler) == "routine"
    assert _level(triage, filler + "Now I can't breathe.") == "emergency"
    assert time.perf_counter() - start < 2.0


def test_fast(triage: RuleTriage) -> None:
    """A typical message is classified in well under a millisecond on average."""
    texts = [t for t, _ in EMERGENCY] + URGENT + ROUTINE_TEXTS + [t for _, t in LATER_ROUNDS]
    timings = []
    for _ in range(3):  # best of three, so a busy machine does not fail the test
        start = time.perf_counter()
        for text in texts:
            triage.classify(text)
        timings.append((time.perf_counter() - start) / len(texts))
    assert min(timings) < 0.001


def test_normalisation() -> None:
    """Lower case, NFKC, full-width punctuation, no accents, no apostrophes, single spaces."""
    assert fold("  Ｉ CAN’T   Breathe！ ") == "i cant breathe!"
    assert fold("Sangró  MUCHÍSIMO，ayúdenme。") == "sangro muchisimo,ayudenme."
    assert fold("ＡＢＣ\u3000１２３") == "abc 123"
    assert load_rules().normalise("我想自杀") == "我想自殺"
    assert load_rules().normalise("chest pian") == "chest pain"


def test_result_names_rule_not_text(triage: RuleTriage) -> None:
    """`matched` is the id of the rule that fired, never the user's words."""
    result = triage.classify("I can't breathe")
    assert result.matched in {r.id for r in triage.rules}


def test_suicide_wins_over_other_categories(triage: RuleTriage) -> None:
    """When self-harm and another emergency both fire, the caller gets the crisis category."""
    result = triage.classify("I cut my wrists and the bleeding won't stop, I want to die")
    assert result.category == "suicide_self_harm"


def _scores(triage: RuleTriage, items: list[tuple[str, str]]) -> tuple[float, float, float]:
    """Emergency recall, urgent-or-higher recall and routine-flagged-emergency share."""
    pred = [(gold, triage.classify(text).level) for text, gold in items]
    emerg = [p for g, p in pred if g == "emergency"]
    serious = [p for g, p in pred if g != "routine"]
    routine = [p for g, p in pred if g == "routine"]
    return (sum(p == "emergency" for p in emerg) / len(emerg),
            sum(p != "routine" for p in serious) / len(serious),
            sum(p == "emergency" for p in routine) / len(routine))


@pytest.mark.skipif(not DEV_SET.exists(), reason="shared/triage/dev.jsonl not present")
def test_dev_set_bar(triage: RuleTriage) -> None:
    """On the shared dev set: every emergency caught and at most 10% of routine called one."""
    rows = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line]
    recall, serious_recall, false_alarm = _scores(triage, [(r["text"], r["level"]) for r in rows])
    assert recall == 1.0
    assert false_alarm <= 0.10
    assert serious_recall >= 0.9


def test_own_paraphrase_bar(triage: RuleTriage) -> None:
    """The same bar holds on the paraphrase, negation, idiom and typo sets above."""
    items = ([(t, "emergency") for t, _ in EMERGENCY] + [(t, "emergency") for t in TYPOS]
             + [(t, "urgent") for t in URGENT]
             + [(t, "routine") for t in ROUTINE_TEXTS + NEGATED + FIGURES_OF_SPEECH]
             + [(t, level) for level, t in LATER_ROUNDS])
    recall, serious_recall, false_alarm = _scores(triage, items)
    assert recall == 1.0
    assert false_alarm <= 0.10
    assert serious_recall >= 0.9


BAD_RULES = [
    ("[[rule]]\nid='x'\nlevel='emergncy'\ncategory='c'\nall_of=[['a']]", "level"),
    ("[[rule]]\nid='x'\nlevel='urgent'\ncategory='c'\nall_of=[['(a']]", "bad pattern"),
    ("[[rule]]\nid='x'\nlevel='urgent'\ncategory='c'\nal_of=[['a']]", "unknown keys"),
    ("[[rule]]\nid='x'\nlevel='urgent'\ncategory='c'\nall_of=[[]]", "empty"),
    ("[[rule]]\nid='x'\nlevel='urgent'\ncategory='c'\nall_of=[['{NOPE}']]", "unknown {NOPE}"),
    ("[[rule]]\nid='x'\nlevel='urgent'\ncategory='c'\nall_of=[['Chest']]", "lower case"),
    ("[[rule]]\nid='x'\nlevel='urgent'\ncategory=''\nall_of=[['a']]", "category"),
    ("[[rule]]\nid='x'\nlevel='urgent'\ncategory='c'\nall_of='a'", "all_of"),
    ("[language]\nfuzzy=['pain']", "typos"),
    ("[language]\nwindw=3", "unknown keys"),
    ("[[rule]\nid='x'", "not valid TOML"),
]


@pytest.mark.parametrize(("body", "message"), BAD_RULES)
def test_bad_rule_file_names_file_and_rule(tmp_path: Path, body: str, message: str) -> None:
    """A broken rule file raises ValueError naming the file, the rule and the problem."""
    (tmp_path / "bad.toml").write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as err:
        RuleTriage.from_dir(tmp_path)
    assert "bad.toml" in str(err.value)
    if "id='x'" in body and "TOML" not in message:
        assert "'x'" in str(err.value)


def test_duplicate_ids_and_empty_dir(tmp_path: Path) -> None:
    """Two rules with one id, or a folder without rule files, are refused."""
    with pytest.raises(ValueError, match="no \\*.toml"):
        RuleTriage.from_dir(tmp_path)
    rule = "[[rule]]\nid='same'\nlevel='urgent'\ncategory='c'\nall_of=[['a']]\n"
    (tmp_path / "a.toml").write_text(rule, encoding="utf-8")
    (tmp_path / "b.toml").write_text(rule, encoding="utf-8")
    with pytest.raises(ValueError, match="'same'"):
        RuleTriage.from_dir(tmp_path)


def test_rule_format_features(tmp_path: Path) -> None:
    """all_of, none_of, negation windows, clause breaks, idioms, typos and defines work."""
    (tmp_path / "t.toml").write_text(
        "[language]\nnegation_before=['no']\nclause_breaks=['but']\nidioms=['pain in the neck']\n"
        "typos={pian='pain'}\nfuzzy=['wheezing']\n[define]\nPAIN='pain'\n"
        "[[rule]]\nid='t.combo'\nlevel='emergency'\ncategory='c'\n"
        "all_of=[['chest {PAIN}'], ['sweat\\w*']]\nnone_of=['period']\n"
        "[[rule]]\nid='t.one'\nlevel='urgent'\ncategory='d'\n"
        "all_of=[['chest {PAIN}', 'wheezing']]\n",
        encoding="utf-8")
    t = RuleTriage.from_dir(tmp_path)
    assert t.classify("chest pian and sweating").matched == "t.combo"
    assert t.classify("chest pain and no sweating").matched == "t.one"
    assert t.classify("no chest pain").level == "routine"
    assert t.classify("no fever but chest pain").level == "urgent"
    assert t.classify("chest pain, sweating, period").matched == "t.one"
    assert t.classify("my boss is a pain in the neck").level == "routine"
    assert t.classify("wheezng").level == "urgent"


def test_hay_fever_is_not_a_fever_in_a_baby() -> None:
    from bot.triage import load_default

    triage = load_default(semantic=False)
    assert triage.classify("breastfeeding my 2 month old, hay fever is awful this year. "
                           "can I take cetirizine?").level == "routine"
    assert triage.classify("my 2 month old has hayfever and a fever of 38.5").level == "emergency"
