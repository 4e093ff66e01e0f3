//! OCR through the `tesseract` command (Debian's `tesseract-ocr` and `tesseract-ocr-kor`),
//! Korean and English. The image goes in on standard input and the text comes back on
//! standard output; the process is killed at the file's deadline. Without Tesseract (or
//! without its Korean data) images and scanned PDFs end [`ExtractError::NeedsOcr`], a state
//! the caller keeps rather than a failure to retry.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::{Budget, ExtractError, Extracted, Format, Page};

/// Said in reasons when OCR cannot run.
pub(crate) const MISSING: &str =
    "OCR is not available on this server (install tesseract-ocr and tesseract-ocr-kor)";

/// The most one image may take, whatever is left of the file's deadline.
const PER_IMAGE: Duration = Duration::from_secs(60);

struct Tesseract {
    version: String,
}

fn tesseract() -> Option<&'static Tesseract> {
    static FOUND: OnceLock<Option<Tesseract>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let langs = run(&["--list-langs"], &[], Duration::from_secs(20)).ok()?;
            let langs = String::from_utf8_lossy(&langs);
            let has = |l: &str| langs.lines().any(|line| line.trim() == l);
            if !(has("kor") && has("eng")) {
                return None;
            }
            let version = run(&["--version"], &[], Duration::from_secs(20))
                .ok()
                .and_then(|out| {
                    String::from_utf8_lossy(&out)
                        .lines()
                        .next()
                        .map(|l| l.trim().to_owned())
                })
                .filter(|v| v.starts_with("tesseract"))
                .unwrap_or_else(|| "tesseract".to_owned());
            Some(Tesseract { version })
        })
        .as_ref()
}

pub(crate) fn available() -> bool {
    tesseract().is_some()
}

/// The engine name recorded for OCR text, e.g. `tesseract 5.3.0 (kor+eng)`.
pub(crate) fn engine() -> String {
    let version = tesseract().map_or("tesseract", |t| t.version.as_str());
    format!("{version} (kor+eng)")
}

pub(crate) fn extract_image(
    bytes: &[u8],
    format: Format,
    budget: &mut Budget,
) -> Result<Extracted, ExtractError> {
    let magic_ok = match format {
        Format::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        _ => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
    };
    if !magic_ok {
        return Err(ExtractError::Broken {
            reason: format!("not a {} image", format.name().to_uppercase()),
        });
    }
    if !available() {
        return Err(ExtractError::NeedsOcr {
            reason: format!("the text of an image needs OCR, and {MISSING}"),
        });
    }
    let text = recognize(bytes, budget)?;
    Ok(Extracted {
        markdown: text.clone(),
        pages: vec![Page {
            number: 1,
            start: 0,
            end: text.len(),
        }],
        text,
        page_count: Some(1),
        title: None,
        engine: engine(),
    })
}

/// The text Tesseract reads in one image (any format Leptonica reads: PNG, JPEG, PNM).
pub(crate) fn recognize(image: &[u8], budget: &mut Budget) -> Result<String, ExtractError> {
    let limit = budget.remaining().min(PER_IMAGE);
    let out = run(
        &["stdin", "stdout", "-l", "kor+eng", "--psm", "3"],
        image,
        limit,
    )
    .map_err(|e| match e {
        RunError::TimedOut => ExtractError::TimedOut,
        RunError::Failed(reason) => ExtractError::Broken {
            reason: format!("OCR could not read the image ({reason})"),
        },
    })?;
    let text = String::from_utf8_lossy(&out);
    // Tesseract ends pages with a form feed and pads lines with spaces.
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_end_matches(['\u{c}', ' ']))
        .collect();
    Ok(lines.join("\n").trim().to_owned())
}

enum RunError {
    TimedOut,
    Failed(String),
}

/// Runs `tesseract` with `input` on standard input, killing it after `limit`.
fn run(args: &[&str], input: &[u8], limit: Duration) -> Result<Vec<u8>, RunError> {
    let mut child = Command::new("tesseract")
        .args(args)
        // One thread: the server runs extractions side by side already.
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| RunError::Failed(format!("tesseract cannot start: {e}")))?;
    let mut stdin = child.stdin.take();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            if let Some(stdin) = stdin.as_mut() {
                let _ = stdin.write_all(input);
            }
            drop(stdin);
        });
        let reader = scope.spawn(move || {
            let mut out = Vec::new();
            if let Some(stdout) = stdout.as_mut() {
                let _ = stdout.read_to_end(&mut out);
            }
            out
        });
        let errors = scope.spawn(move || {
            let mut err = Vec::new();
            if let Some(stderr) = stderr.as_mut() {
                let _ = stderr.take(64 * 1024).read_to_end(&mut err);
            }
            err
        });
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if started.elapsed() > limit => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(RunError::TimedOut);
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => break Err(RunError::Failed(e.to_string())),
            }
        };
        let out = reader.join().unwrap_or_default();
        let err = errors.join().unwrap_or_default();
        let status = status?;
        if status.success() {
            Ok(out)
        } else {
            let err = String::from_utf8_lossy(&err);
            let last = err
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message");
            Err(RunError::Failed(format!(
                "tesseract exited with {status}: {last}"
            )))
        }
    })
}
