//! The UI's words in Korean and English, and how a request picks one: the `jaryo_lang`
//! cookie (set by the switch) first, then `Accept-Language`, then Korean.
//!
//! Every string a page shows is a field of [`Text`], so a missing translation is a compile
//! error, not a blank on screen.

use axum::http::HeaderMap;
use axum::http::header;
use chrono::{DateTime, Utc};

/// The cookie that remembers the person's choice.
pub const LANG_COOKIE: &str = "jaryo_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Self::Ko => "ko",
            Self::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "ko" => Some(Self::Ko),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    pub fn text(self) -> &'static Text {
        match self {
            Self::Ko => &KO,
            Self::En => &EN,
        }
    }

    /// The language of a request: the cookie, else the best of `Accept-Language`, else Korean.
    pub fn of_request(headers: &HeaderMap) -> Self {
        if let Some(lang) = super::session::cookie(headers, LANG_COOKIE).and_then(Self::parse) {
            return lang;
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .and_then(Self::from_accept_language)
            .unwrap_or(Self::Ko)
    }

    /// The supported language with the highest `q` in an `Accept-Language` value; ties go to
    /// the one listed first.
    pub fn from_accept_language(value: &str) -> Option<Self> {
        let mut best: Option<(Self, f32)> = None;
        for item in value.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .find_map(|param| param.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let Some(lang) = Self::parse(primary) else {
                continue;
            };
            if q > 0.0 && best.is_none_or(|(_, best_q)| q > best_q) {
                best = Some((lang, q));
            }
        }
        best.map(|(lang, _)| lang)
    }

    /// A time as this language writes it, in UTC; the page's script rewrites it in the
    /// reader's own time zone.
    pub fn format_time(self, time: DateTime<Utc>) -> String {
        match self {
            Self::Ko => time.format("%Y. %-m. %-d. %H:%M UTC").to_string(),
            Self::En => time.format("%b %-d, %Y, %H:%M UTC").to_string(),
        }
    }
}

/// Every word the UI shows.
#[derive(Debug)]
pub struct Text {
    pub app_name: &'static str,
    pub nav_memos: &'static str,
    pub nav_library: &'static str,
    pub nav_search: &'static str,
    pub nav_status: &'static str,
    pub nav_tags: &'static str,
    pub nav_ask: &'static str,
    pub api_reference: &'static str,
    pub api_reference_help: &'static str,
    pub api_public: &'static str,
    pub api_parameter: &'static str,
    pub api_type: &'static str,
    pub api_required: &'static str,
    pub api_body: &'static str,
    pub api_schemas: &'static str,
    pub ask_title: &'static str,
    pub ask_placeholder: &'static str,
    pub ask_help: &'static str,
    pub ask_button: &'static str,
    pub ask_from_search: &'static str,
    pub ask_stop: &'static str,
    pub ask_stopped: &'static str,
    pub ask_answering: &'static str,
    pub ask_sources: &'static str,
    pub ask_nothing_found: &'static str,
    pub ask_failed: &'static str,
    pub ask_passage: &'static str,
    pub tags_help: &'static str,
    pub tags_empty: &'static str,
    pub rename: &'static str,
    pub rename_to: &'static str,
    pub tag_invalid: &'static str,
    pub done_renamed: &'static str,
    pub sign_out: &'static str,
    pub switch_to: &'static str,
    pub sign_in_title: &'static str,
    pub sign_in_help: &'static str,
    pub token_label: &'static str,
    pub sign_in: &'static str,
    pub wrong_token: &'static str,
    pub capture_placeholder: &'static str,
    pub capture_hint: &'static str,
    pub save: &'static str,
    pub edit: &'static str,
    pub delete: &'static str,
    pub confirm_delete: &'static str,
    pub send_to_library: &'static str,
    pub in_library: &'static str,
    pub no_memos: &'static str,
    pub older: &'static str,
    pub edit_memo: &'static str,
    pub cancel: &'static str,
    pub library_empty: &'static str,
    pub all: &'static str,
    pub badge_none: &'static str,
    pub badge_waiting: &'static str,
    pub badge_retrying: &'static str,
    pub badge_drafting: &'static str,
    pub badge_ready: &'static str,
    pub badge_attention: &'static str,
    pub badge_accepted: &'static str,
    pub badge_rejected: &'static str,
    pub badge_skipped: &'static str,
    pub badge_failed: &'static str,
    pub retry: &'static str,
    pub original: &'static str,
    pub draft: &'static str,
    pub no_draft_yet: &'static str,
    pub changes: &'static str,
    pub changes_help: &'static str,
    pub accept: &'static str,
    pub edit_then_accept: &'static str,
    pub accept_edited: &'static str,
    pub reject: &'static str,
    pub regenerate: &'static str,
    pub regenerate_accepted_note: &'static str,
    pub findings: &'static str,
    pub findings_help: &'static str,
    pub provenance: &'static str,
    pub model: &'static str,
    pub prompt_version: &'static str,
    pub drafted_at: &'static str,
    pub from_memo: &'static str,
    pub history: &'static str,
    pub history_empty: &'static str,
    pub action_accept: &'static str,
    pub action_reject: &'static str,
    pub action_regenerate: &'static str,
    pub action_retry: &'static str,
    pub by_web: &'static str,
    pub by_api: &'static str,
    pub edited: &'static str,
    pub characters: &'static str,
    pub kept_text: &'static str,
    pub restore: &'static str,
    pub last_error: &'static str,
    pub attempts: &'static str,
    pub search_placeholder: &'static str,
    pub search: &'static str,
    pub kind_any: &'static str,
    pub kind_memo: &'static str,
    /// A search hit's note that the document was promoted from a memo (links to the memo).
    pub hit_from_memo: &'static str,
    /// A search hit's note that only the accepted draft held the words.
    pub hit_in_accepted_draft: &'static str,
    pub kind_document: &'static str,
    pub tag: &'static str,
    pub from_date: &'static str,
    pub to_date: &'static str,
    pub draft_state: &'static str,
    pub no_hits: &'static str,
    pub more_results: &'static str,
    pub status_model: &'static str,
    pub status_up: &'static str,
    pub status_down: &'static str,
    pub status_unknown: &'static str,
    pub status_why: &'static str,
    pub status_queue: &'static str,
    pub status_ready: &'static str,
    pub status_next_due: &'static str,
    pub status_gate: &'static str,
    pub status_holders: &'static str,
    pub status_waiters: &'static str,
    pub status_cluster: &'static str,
    pub interactive: &'static str,
    pub background: &'static str,
    pub status_worker: &'static str,
    pub status_paused: &'static str,
    pub status_failures: &'static str,
    pub status_no_failures: &'static str,
    pub status_backups: &'static str,
    pub status_last_backup: &'static str,
    pub status_no_backup: &'static str,
    pub status_drafted: &'static str,
    pub done_accepted: &'static str,
    pub done_edited: &'static str,
    pub done_rejected: &'static str,
    pub done_regenerating: &'static str,
    pub done_promoted: &'static str,
    pub done_saved: &'static str,
    pub done_deleted: &'static str,
    pub error_title: &'static str,
    pub error_conflict: &'static str,
    pub error_csrf: &'static str,
    pub error_not_found: &'static str,
    pub error_internal: &'static str,
    pub error_bad_address: &'static str,
    pub error_invalid: &'static str,
    pub back: &'static str,
    pub finding_number: &'static str,
    pub finding_date_time: &'static str,
    pub finding_url: &'static str,
    pub finding_email: &'static str,
    pub finding_phone: &'static str,
    pub finding_term: &'static str,
    pub finding_language_drift: &'static str,
    pub finding_length_ratio: &'static str,
    pub finding_dropped: &'static str,
    pub finding_coverage: &'static str,
    pub finding_echo: &'static str,
    pub finding_commentary: &'static str,
    pub finding_other: &'static str,
}

impl Text {
    /// A fidelity finding's kind (`jaryo_fidelity::FindingKind`'s stable name) in words.
    pub fn finding_label(&self, kind: &str) -> &'static str {
        match kind {
            "number" => self.finding_number,
            "date_time" => self.finding_date_time,
            "url" => self.finding_url,
            "email" => self.finding_email,
            "phone" => self.finding_phone,
            "term" => self.finding_term,
            "language_drift" => self.finding_language_drift,
            "length_ratio" => self.finding_length_ratio,
            "dropped" => self.finding_dropped,
            "coverage" => self.finding_coverage,
            "echo" => self.finding_echo,
            "commentary" => self.finding_commentary,
            _ => self.finding_other,
        }
    }
}

pub static KO: Text = Text {
    app_name: "자료",
    nav_memos: "메모",
    nav_library: "자료실",
    nav_search: "검색",
    nav_status: "상태",
    nav_tags: "태그",
    nav_ask: "질문",
    api_reference: "API 안내",
    api_reference_help: "이 서버가 내주는 OpenAPI 3.1 문서에서 그린 페이지입니다. 문서 원본:",
    api_public: "토큰 없이",
    api_parameter: "매개변수",
    api_type: "형식",
    api_required: "필수",
    api_body: "본문",
    api_schemas: "스키마",
    ask_title: "노트에 묻기",
    ask_placeholder: "무엇이든 물어보세요 (예: 서버 배포 담당자는 누구야?)",
    ask_help: "답은 내 메모와 문서에서만 나옵니다. [1] 같은 번호는 옆에 나열한 출처를 가리킵니다.",
    ask_button: "묻기",
    ask_from_search: "노트에 질문하기",
    ask_stop: "멈추기",
    ask_stopped: "답을 멈췄습니다.",
    ask_answering: "답하는 중…",
    ask_sources: "출처",
    ask_nothing_found: "노트에서 이 질문에 맞는 것을 찾지 못했습니다.",
    ask_failed: "모델이 답하지 못했습니다",
    ask_passage: "구절",
    tags_help: "태그는 글 속의 #낱말입니다. 이름을 바꾸면 메모 본문의 #태그가 고쳐집니다(문서의 원문은 그대로 둡니다).",
    tags_empty: "아직 태그가 없습니다. 메모에 #태그를 적어 보세요.",
    rename: "이름 바꾸기",
    rename_to: "새 이름",
    tag_invalid: "태그는 글자, 숫자, _, -, / 로만 된 한 낱말이어야 합니다.",
    done_renamed: "태그 이름을 바꿨습니다.",
    sign_out: "로그아웃",
    switch_to: "English",
    sign_in_title: "로그인",
    sign_in_help: "서버의 데이터 폴더에 있는 API 토큰(api-token 파일)을 붙여 넣으세요.",
    token_label: "API 토큰",
    sign_in: "로그인",
    wrong_token: "토큰이 맞지 않습니다.",
    capture_placeholder: "생각나는 것을 적어 두세요… #태그",
    capture_hint: "Enter로 저장, Shift+Enter로 줄바꿈",
    save: "저장",
    edit: "고치기",
    delete: "지우기",
    confirm_delete: "이 메모를 지울까요?",
    send_to_library: "자료로 보내기",
    in_library: "자료실에서 보기",
    no_memos: "아직 메모가 없습니다. 위에 적어 보세요.",
    older: "이전 항목",
    edit_memo: "메모 고치기",
    cancel: "취소",
    library_empty: "이 상태의 자료가 없습니다.",
    all: "전체",
    badge_none: "초안 없음",
    badge_waiting: "대기 중",
    badge_retrying: "다시 시도 예정",
    badge_drafting: "초안 작성 중",
    badge_ready: "초안 도착",
    badge_attention: "확인 필요",
    badge_accepted: "수락됨",
    badge_rejected: "거절됨",
    badge_skipped: "건너뜀",
    badge_failed: "실패",
    retry: "다시 시도",
    original: "원문",
    draft: "초안",
    no_draft_yet: "아직 초안이 없습니다.",
    changes: "바뀐 곳",
    changes_help: "원문에서 빠진 말은 왼쪽에, 초안에 새로 들어간 말은 오른쪽에 표시됩니다. 원문에 없는 사실로 보이는 곳은 노란색입니다.",
    accept: "수락",
    edit_then_accept: "고쳐서 수락",
    accept_edited: "고친 글로 수락",
    reject: "거절",
    regenerate: "다시 만들기",
    regenerate_accepted_note: "수락한 글은 기록에 남아 되돌릴 수 있습니다.",
    findings: "확인할 내용",
    findings_help: "초안에는 있지만 원문에서 찾지 못한 항목, 원문에는 있지만 초안에서 빠진 항목(dropped, coverage), 지워진 프롬프트 반복과 군말(echo, commentary)입니다.",
    provenance: "출처",
    model: "모델",
    prompt_version: "프롬프트 버전",
    drafted_at: "초안 작성",
    from_memo: "원본 메모",
    history: "검토 기록",
    history_empty: "아직 검토 기록이 없습니다.",
    action_accept: "수락",
    action_reject: "거절",
    action_regenerate: "다시 만들기",
    action_retry: "다시 시도",
    by_web: "웹",
    by_api: "API",
    edited: "고침",
    characters: "자",
    kept_text: "남겨 둔 글",
    restore: "이 글로 되돌리기",
    last_error: "실패 이유",
    attempts: "시도",
    search_placeholder: "검색어 (예: 회의 일정)",
    search: "검색",
    kind_any: "모두",
    kind_memo: "메모",
    hit_from_memo: "메모에서 만든 문서",
    hit_in_accepted_draft: "받아들인 초안에서 찾음",
    kind_document: "자료",
    tag: "태그",
    from_date: "부터",
    to_date: "까지",
    draft_state: "초안 상태",
    no_hits: "찾은 것이 없습니다.",
    more_results: "결과 더 보기",
    status_model: "모델 서버",
    status_up: "응답함",
    status_down: "응답 없음",
    status_unknown: "아직 모름",
    status_why: "이유",
    status_queue: "초안 대기열",
    status_ready: "지금 할 수 있는 일",
    status_next_due: "다음 예정",
    status_gate: "LLM 게이트",
    status_holders: "사용 중",
    status_waiters: "기다리는 중",
    status_cluster: "모든 프로세스",
    interactive: "사람",
    background: "백그라운드",
    status_worker: "초안 작업자",
    status_paused: "모델 서버를 기다리며 멈춤",
    status_failures: "최근 실패",
    status_no_failures: "최근 실패가 없습니다.",
    status_backups: "백업",
    status_last_backup: "마지막 백업",
    status_no_backup: "아직 예약 백업이 없습니다.",
    status_drafted: "작성한 초안",
    done_accepted: "초안을 수락했습니다.",
    done_edited: "고친 글로 수락했습니다.",
    done_rejected: "초안을 거절했습니다. 초안은 그대로 남아 있습니다.",
    done_regenerating: "새 초안을 요청했습니다.",
    done_promoted: "자료실로 보냈습니다. 곧 초안이 만들어집니다.",
    done_saved: "저장했습니다.",
    done_deleted: "지웠습니다.",
    error_title: "문제가 생겼습니다",
    error_conflict: "그사이 문서가 바뀌었습니다. 새로 고친 뒤 다시 해 보세요.",
    error_csrf: "양식이 만료되었습니다. 페이지를 새로 고친 뒤 다시 해 보세요.",
    error_not_found: "찾는 것이 없습니다.",
    error_internal: "서버에 문제가 생겼습니다. 잠시 뒤 다시 해 보세요.",
    error_bad_address: "주소가 올바르지 않습니다. 메뉴에서 다시 찾아가 보세요.",
    error_invalid: "입력한 내용을 받을 수 없습니다.",
    back: "돌아가기",
    finding_number: "원문에 없는 숫자",
    finding_date_time: "원문에 없는 날짜·시각",
    finding_url: "원문에 없는 링크",
    finding_email: "원문에 없는 이메일 주소",
    finding_phone: "원문에 없는 전화번호",
    finding_term: "원문에 없는 이름·용어",
    finding_language_drift: "원문과 다른 언어",
    finding_length_ratio: "원문보다 훨씬 긴 글",
    finding_dropped: "초안에서 빠진 원문 내용",
    finding_coverage: "원문 내용 대부분이 빠짐",
    finding_echo: "지시문이나 구분 표시가 섞임",
    finding_commentary: "메모가 아닌 설명 문장",
    finding_other: "확인할 곳",
};

pub static EN: Text = Text {
    app_name: "jaryo",
    nav_memos: "Memos",
    nav_library: "Library",
    nav_search: "Search",
    nav_status: "Status",
    nav_tags: "Tags",
    nav_ask: "Ask",
    api_reference: "API reference",
    api_reference_help: "Drawn from the OpenAPI 3.1 document this server serves. The document itself:",
    api_public: "no token",
    api_parameter: "Parameter",
    api_type: "Type",
    api_required: "required",
    api_body: "Body",
    api_schemas: "Schemas",
    ask_title: "Ask your notes",
    ask_placeholder: "Ask anything (e.g. who deploys the server?)",
    ask_help: "Answers come from your own memos and documents only; numbers like [1] point to the sources listed beside.",
    ask_button: "Ask",
    ask_from_search: "Ask your notes",
    ask_stop: "Stop",
    ask_stopped: "Stopped.",
    ask_answering: "Answering…",
    ask_sources: "Sources",
    ask_nothing_found: "Nothing in your notes matches this question.",
    ask_failed: "The model could not answer",
    ask_passage: "passage",
    tags_help: "Tags are the #words in your text. Renaming one rewrites the #tag in your memos (documents keep their original text).",
    tags_empty: "No tags yet. Write a #tag in a memo.",
    rename: "Rename",
    rename_to: "New name",
    tag_invalid: "A tag is one word of letters, digits, _, - or /.",
    done_renamed: "Tag renamed.",
    sign_out: "Sign out",
    switch_to: "한국어",
    sign_in_title: "Sign in",
    sign_in_help: "Paste the API token from the server's data directory (the api-token file).",
    token_label: "API token",
    sign_in: "Sign in",
    wrong_token: "That token is not right.",
    capture_placeholder: "Jot something down… #tag",
    capture_hint: "Enter saves, Shift+Enter adds a line",
    save: "Save",
    edit: "Edit",
    delete: "Delete",
    confirm_delete: "Delete this memo?",
    send_to_library: "Send to library",
    in_library: "Open in library",
    no_memos: "No memos yet. Write one above.",
    older: "Older",
    edit_memo: "Edit memo",
    cancel: "Cancel",
    library_empty: "No documents in this state.",
    all: "All",
    badge_none: "No draft",
    badge_waiting: "Waiting",
    badge_retrying: "Retrying soon",
    badge_drafting: "Drafting",
    badge_ready: "Draft ready",
    badge_attention: "Needs attention",
    badge_accepted: "Accepted",
    badge_rejected: "Rejected",
    badge_skipped: "Skipped",
    badge_failed: "Failed",
    retry: "Retry",
    original: "Original",
    draft: "Draft",
    no_draft_yet: "No draft yet.",
    changes: "Changes",
    changes_help: "Words the draft dropped are marked on the left, words it added on the right. Yellow marks what looks like a fact the original does not contain.",
    accept: "Accept",
    edit_then_accept: "Edit, then accept",
    accept_edited: "Accept edited text",
    reject: "Reject",
    regenerate: "Regenerate",
    regenerate_accepted_note: "The accepted text is kept in the history and can be restored.",
    findings: "To check",
    findings_help: "Items in the draft the checker could not find in the original, items of the original the draft lost (dropped, coverage), and prompt echo or commentary removed from the answer (echo, commentary).",
    provenance: "Provenance",
    model: "Model",
    prompt_version: "Prompt version",
    drafted_at: "Drafted",
    from_memo: "From memo",
    history: "Review history",
    history_empty: "No reviews yet.",
    action_accept: "Accepted",
    action_reject: "Rejected",
    action_regenerate: "Regenerated",
    action_retry: "Retried",
    by_web: "web",
    by_api: "API",
    edited: "edited",
    characters: "chars",
    kept_text: "Kept text",
    restore: "Restore this text",
    last_error: "Why it failed",
    attempts: "Attempts",
    search_placeholder: "Search (e.g. meeting schedule)",
    search: "Search",
    kind_any: "All",
    kind_memo: "Memos",
    hit_from_memo: "Made from a memo",
    hit_in_accepted_draft: "Found in the accepted draft",
    kind_document: "Documents",
    tag: "Tag",
    from_date: "From",
    to_date: "To",
    draft_state: "Draft state",
    no_hits: "Nothing found.",
    more_results: "More results",
    status_model: "Model server",
    status_up: "Up",
    status_down: "Down",
    status_unknown: "Not known yet",
    status_why: "Why",
    status_queue: "Draft queue",
    status_ready: "Ready now",
    status_next_due: "Next due",
    status_gate: "LLM gate",
    status_holders: "Holding a slot",
    status_waiters: "Waiting",
    status_cluster: "All processes",
    interactive: "person",
    background: "background",
    status_worker: "Draft worker",
    status_paused: "Paused until the model server answers",
    status_failures: "Recent failures",
    status_no_failures: "No recent failures.",
    status_backups: "Backups",
    status_last_backup: "Last backup",
    status_no_backup: "No scheduled backup has been made yet.",
    status_drafted: "Drafts made",
    done_accepted: "Draft accepted.",
    done_edited: "Edited text accepted.",
    done_rejected: "Draft rejected. It stays here, marked rejected.",
    done_regenerating: "A new draft is on its way.",
    done_promoted: "Sent to the library. A draft is on its way.",
    done_saved: "Saved.",
    done_deleted: "Deleted.",
    error_title: "Something went wrong",
    error_conflict: "The document changed meanwhile. Reload and try again.",
    error_csrf: "This form has expired. Reload the page and try again.",
    error_not_found: "Nothing here.",
    error_internal: "The server ran into a problem. Try again in a moment.",
    error_bad_address: "This address is not right. Find your way from the menu.",
    error_invalid: "That input cannot be accepted.",
    back: "Back",
    finding_number: "Number not in the original",
    finding_date_time: "Date or time not in the original",
    finding_url: "Link not in the original",
    finding_email: "E-mail address not in the original",
    finding_phone: "Phone number not in the original",
    finding_term: "Name or term not in the original",
    finding_language_drift: "Another language than the original",
    finding_length_ratio: "Much longer than the original",
    finding_dropped: "In the original, missing from the draft",
    finding_coverage: "Most of the original is missing",
    finding_echo: "Echoed instructions or markers",
    finding_commentary: "Commentary, not the note",
    finding_other: "Worth a look",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("fr-FR, ko;q=0.8, en;q=0.5"),
            Some(Lang::Ko)
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0.3, ko-KR;q=0.9"),
            Some(Lang::Ko)
        );
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::from_accept_language("ko;q=0"), None);
    }
}

#[cfg(test)]
mod finding_label_tests {
    use super::*;

    #[test]
    fn every_finding_kind_has_words_of_its_own_in_both_languages() {
        let kinds = [
            "number",
            "date_time",
            "url",
            "email",
            "phone",
            "term",
            "language_drift",
            "length_ratio",
            "dropped",
            "coverage",
            "echo",
            "commentary",
        ];
        for text in [&KO, &EN] {
            for kind in kinds {
                assert_ne!(text.finding_label(kind), text.finding_other, "{kind}");
            }
        }
    }
}
