//! Word lists the rules consult. Each list is general language knowledge, not tuned to any memo:
//! what carries no checkable fact (function words, the structural vocabulary models use for
//! headings and labels), and how Korean attaches particles, endings and counters.
//!
//! Adding a word to a "common" list makes it impossible to flag, so only words that never name
//! anything belong there.

use std::collections::HashSet;
use std::sync::LazyLock;

/// English words that never count as a name or term, even capitalised at a sentence start or in
/// a heading: function words, the most frequent verbs and adjectives, and the labels models put
/// on sections ("Summary", "Next Steps", "Ingredients").
#[rustfmt::skip]
pub(crate) static ENGLISH_COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    [
        // function words
        "a", "an", "the", "and", "or", "but", "nor", "so", "yet", "if", "then", "else", "when",
        "where", "while", "because", "as", "at", "by", "for", "from", "in", "into", "of", "off",
        "on", "onto", "out", "over", "to", "up", "with", "without", "within", "about", "above",
        "after", "again", "against", "all", "also", "any", "are", "be", "been", "before", "being",
        "below", "between", "both", "can", "cannot", "could", "did", "do", "does", "doing", "down",
        "during", "each", "either", "every", "few", "further", "had", "has", "have", "having",
        "he", "her", "here", "hers", "him", "his", "how", "i", "it", "its", "just", "me", "more",
        "most", "must", "my", "no", "not", "now", "once", "only", "other", "our", "ours", "own",
        "same", "she", "should", "some", "such", "than", "that", "their", "them", "there", "these",
        "they", "this", "those", "through", "too", "under", "until", "very", "was", "we", "were",
        "what", "which", "who", "whom", "whose", "why", "will", "would", "you", "your", "yours",
        "is", "am", "was", "may", "might", "shall", "via", "per", "vs", "versus", "etc", "e.g",
        "i.e", "ok", "okay", "yes", "maybe", "please", "thanks", "also", "still", "already",
        "almost", "around", "approximately", "roughly", "whether", "however", "therefore",
        "otherwise", "instead", "though", "although", "since", "unless", "like", "across", "along",
        "among", "behind", "beside", "beyond", "inside", "outside", "toward", "towards", "upon",
        "near", "next", "last", "first", "then", "there's", "it's", "let's", "don't", "doesn't",
        "isn't", "aren't", "won't", "can't", "i'm", "we're", "you're", "they're", "i'll", "we'll",
        "n/a", "tbd", "tba", "todo", "to-do", "fyi", "asap", "eta", "re", "w", "am", "pm",
        // frequent verbs
        "add", "ask", "become", "begin", "bring", "buy", "call", "change", "check", "choose",
        "come", "confirm", "consider", "continue", "create", "decide", "discuss", "do", "ensure",
        "expect", "find", "finish", "fix", "follow", "get", "give", "go", "help", "include",
        "keep", "know", "learn", "leave", "let", "look", "make", "mark", "meet", "move", "need",
        "needs", "note", "open", "pay", "pick", "plan", "prepare", "put", "read", "reach",
        "remember", "remove", "review", "run", "say", "see", "send", "set", "share", "show",
        "start", "stop", "submit", "take", "talk", "tell", "test", "think", "track", "try", "turn",
        "update", "use", "verify", "wait", "want", "work", "write", "do", "done",
        // frequent adjectives and adverbs
        "new", "old", "good", "bad", "best", "better", "main", "important", "general",
        "additional", "current", "final", "various", "different", "early", "late", "soon", "later",
        "quick", "simple", "key", "major", "minor", "high", "low", "full", "short", "long",
        "small", "large", "big", "possible", "optional", "required", "available",
        // structural vocabulary of headings and labels
        "summary", "overview", "details", "detail", "background", "context", "agenda", "attendees",
        "participants", "discussion", "decisions", "decision", "action", "actions", "items",
        "item", "tasks", "task", "checklist", "list", "steps", "step", "instructions",
        "ingredients", "method", "notes", "plan", "plans", "schedule", "timeline", "status",
        "issues", "issue", "questions", "question", "answer", "answers", "other", "others", "misc",
        "miscellaneous", "references", "reference", "links", "link", "resources", "contacts",
        "contact", "follow-up", "followup", "points", "point", "highlights", "takeaways",
        "conclusion", "result", "results", "outcome", "goals", "goal", "budget", "cost", "costs",
        "price", "prices", "total", "subtotal", "amount", "date", "dates", "time", "times",
        "location", "place", "description", "name", "value", "type", "category", "word", "meaning",
        "source", "title", "topic", "topics", "section", "part", "priority", "owner", "completed",
        "pending", "closed", "blocked", "progress", "pros", "cons", "strengths", "weaknesses",
        "options", "option", "recommendation", "recommendations", "feedback", "open items", "day",
        "days", "week", "weeks", "month", "months", "year", "years", "hour", "hours", "minute",
        "minutes", "note", "memo", "memos", "draft", "reminder", "reminders", "idea", "ideas",
        "log", "record", "records", "overview", "introduction", "purpose", "scope", "requirements",
        "notes", "tips", "warning", "caution", "important", "example", "examples", "service",
        "services", "when", "where", "who", "what", "why", "how",
    ]
    .into_iter()
    .collect()
});

/// Korean words (stems) that never count as a term: the structural and report vocabulary models
/// use for titles, labels and polite restatements, and function nouns. They carry no fact a
/// person could check against the memo.
#[rustfmt::skip]
pub(crate) static KOREAN_COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    [
        // structure and labels
        "개요", "요약", "정리", "내용", "목록", "참고", "기타", "사항", "관련", "주요", "항목",
        "세부", "상세", "메모", "노트", "일정", "계획", "준비", "확인", "완료", "결정", "논의",
        "안건", "결론", "단계", "방법", "순서", "작업", "목표", "문제", "상태", "비고", "추가",
        "변경", "체크리스트", "리스트", "준비물", "재료", "참석자", "참석", "회의록", "질문",
        "답변", "링크", "연락처", "주의", "요점", "핵심", "배경", "목적", "결과", "기록", "정보",
        "장소", "시간", "날짜", "일시", "기간", "시기", "위치", "담당", "담당자", "현황", "원인",
        "조치", "해결", "발생", "수정", "개선", "검토", "공유", "전달", "예시", "설명", "특징",
        "장점", "단점", "포인트", "기준", "방식", "주제", "제목", "분류", "종류", "수량", "가격",
        "금액", "비용", "지출", "합계", "총액", "만드는", "조리", "진행", "예정", "필요", "해당",
        "사용", "이용", "후속", "대상", "구분", "비교", "참조", "출처", "요청", "안내", "공지",
        // function nouns and connectives
        "경우", "다음", "이후", "이전", "현재", "대한", "대해", "위한", "위해", "통해", "따라",
        "그리고", "또한", "하지만", "그러나", "따라서", "그래서", "그런데", "또는", "혹은", "각각",
        "모든", "전체", "부분", "이번", "지난", "동안", "이내", "이상", "이하", "미만", "초과",
        "정도", "최소", "최대", "대략", "가량", "이것", "그것", "저것", "여기", "거기", "우리",
        "저희", "모두", "함께", "다시", "먼저", "바로", "아직", "계속", "가능", "불가", "있음",
        "없음", "같이", "처럼", "위주", "중심", "기존", "신규", "관한", "대비",
    ]
    .into_iter()
    .collect()
});

/// Particles and endings stripped from the end of a Hangul word before it is compared, longest
/// first. Stripping only ever makes a word easier to support, so the list errs towards more.
#[rustfmt::skip]
pub(crate) static KOREAN_SUFFIXES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut suffixes = vec![
        // noun particles
        "께서는", "에서는", "에게서", "에게는", "한테서", "한테는", "으로는", "으로도", "으로써",
        "으로서", "에서도", "까지는", "까지도", "부터는", "이라고", "이라는", "이라도", "이라면",
        "이지만", "이므로", "이라서", "라고", "라는", "에서", "에게", "한테", "으로", "께서",
        "부터", "까지", "처럼", "보다", "마다", "이나", "이랑", "이며", "이고", "에는", "에도",
        "와는", "과는", "로는", "로도", "로서", "로써", "하고", "조차", "마저", "밖에", "만큼",
        "대로", "이든", "든지", "은", "는", "이", "가", "을", "를", "에", "도", "만", "의", "와",
        "과", "로", "랑", "께", "나", "야", "뿐",
        // predicate endings (하다/되다/이다 and the common inflections)
        "하였습니다", "했었습니다", "되었습니다", "이었습니다", "했습니다", "됐습니다", "였습니다",
        "었습니다", "았습니다", "겠습니다", "합니다", "됩니다", "입니다", "습니다", "니다",
        "했어요", "해요", "하세요", "해주세요", "세요", "했다", "했음", "했고", "했으며", "했던",
        "한다", "하다", "하고", "하며", "하면", "하여", "해서", "해야", "하기", "하는", "하던",
        "하자", "합시다", "되었다", "됐다", "된다", "되다", "되는", "되고", "되어", "돼서", "되면",
        "이었다", "이다", "였다", "였음", "었다", "았다", "겠다", "어요", "아요", "어서", "아서",
        "으면", "으며", "으니", "는데", "은데", "지만", "면서", "도록", "려고", "으려고", "기로",
        "했으나", "였으나", "었으나", "았으나", "으나", "되지", "하지", "이며", "인", "기에",
        "기를", "기는", "해", "한", "할", "함", "된", "될", "됨", "임", "음", "다", "요", "고",
        "며", "면", "게", "죠", "네", "하", "아", "어",
    ];
    suffixes.sort_by_key(|suffix| std::cmp::Reverse(suffix.chars().count()));
    suffixes
});

/// Derivational suffixes that make a noun of a noun (만료일 → 만료, 참석자 → 참석, 교통비 →
/// 교통). Stripped only when two or more syllables remain, since as a word's second syllable they
/// are usually part of the word itself (문서, 일자).
#[rustfmt::skip]
pub(crate) const KOREAN_NOUN_SUFFIXES: &[&str] = &[
    "들", "님", "씨", "일", "자", "비", "용", "별", "적", "화", "성", "상", "중", "간", "내", "외",
    "전", "후", "차", "분", "건", "표", "본",
];

/// Counters and units that follow a number written in Korean words ("세 명", "천 원"), so
/// "두 개" and "2개" are one fact. Only words that rarely start another noun belong here.
#[rustfmt::skip]
pub(crate) const KOREAN_COUNTERS: &[&str] = &[
    "개월", "시간", "주일", "인분", "마리", "그릇", "켤레", "군데", "가지", "차례", "바퀴", "큰술",
    "작은술", "스푼", "조각", "봉지", "송이", "퍼센트", "달러", "킬로", "미터", "그램", "리터",
    "세트", "페이지", "개", "명", "분", "번", "살", "잔", "병", "장", "권", "대", "벌", "컵", "곳",
    "층", "칸", "줄", "팩", "캔", "판", "단", "모", "포기", "주", "달", "해", "박", "밤", "회",
    "건", "원", "엔", "초", "일", "년", "배", "쪽",
];

/// Top-level domains a bare domain ("jaryo.dev", "naver.com") may end in. Without a list every
/// "file.rs" or "node.js" would be a URL.
#[rustfmt::skip]
pub(crate) const TOP_LEVEL_DOMAINS: &[&str] = &[
    "com", "net", "org", "io", "dev", "app", "ai", "kr", "co", "me", "so", "sh", "gg", "tv", "xyz",
    "info", "biz", "edu", "gov", "us", "uk", "jp", "cn", "de", "fr", "eu", "ca", "au", "cloud",
    "site", "page", "tech", "blog", "local", "internal", "lan", "test", "example", "localhost",
];

/// Particles that mark a person (`민지에게`, `현우한테`, `부장님께`, `지훈 씨`): the word they
/// follow names someone, which a draft must keep. Longest first.
#[rustfmt::skip]
pub(crate) const KOREAN_PERSON_PARTICLES: &[&str] = &[
    "에게서", "에게는", "에게도", "한테서", "한테는", "한테도", "께서는", "께서", "에게", "한테",
    "님께", "께",
];

/// Role words a name follows in a terse Korean note (`담당 준호`, `발표는 서연`, `상담원 김도윤`,
/// `예약자 이름 지훈`), compared by stem.
#[rustfmt::skip]
pub(crate) static KOREAN_ROLE_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    [
        "담당", "담당자", "발표", "발표자", "상담원", "관리자", "예약자", "작성자", "이름",
        "문의", "연락", "책임자", "진행자", "인솔", "인솔자", "사회자", "강사", "매니저",
    ]
    .into_iter()
    .collect()
});
