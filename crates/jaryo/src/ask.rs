//! `jaryo ask`: a question answered from your notes, printed as it streams, with its sources.

use crate::cli::ClientArgs;
use anyhow::bail;
use clap::Args;
use jaryo_client::ApiClient;
use serde_json::Value;
use std::io::Write;

#[derive(Debug, Args)]
#[command(
    after_help = "The answer comes from your own memos and documents only, with the \
                        sources it cites. Example: jaryo ask 서버 배포 담당자는 누구야?"
)]
pub struct AskArgs {
    /// The question.
    #[arg(required = true, num_args = 1..)]
    pub question: Vec<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub async fn run(api: &ApiClient, args: AskArgs) -> anyhow::Result<()> {
    let question = args.question.join(" ");
    let json = args.client.json;
    let mut sources: Vec<Value> = Vec::new();
    let mut done: Option<Value> = None;
    let mut failure: Option<String> = None;
    let mut nothing = false;
    let mut stdout = std::io::stdout();
    api.ask_streaming(&question, |event, data| match event {
        "sources" => sources = data["sources"].as_array().cloned().unwrap_or_default(),
        "delta" if !json => {
            let _ = write!(stdout, "{}", data["text"].as_str().unwrap_or_default());
            let _ = stdout.flush();
        }
        "retract" if !json => {
            let _ = writeln!(
                stdout,
                "\n(the model was thinking aloud; the answer follows)"
            );
        }
        "done" => done = Some(data),
        "nothing_found" => nothing = true,
        "failed" => failure = Some(data["message"].as_str().unwrap_or("unknown").to_owned()),
        _ => {}
    })
    .await?;
    if let Some(message) = failure {
        bail!("the model could not answer: {message}");
    }
    if json {
        let done = done.unwrap_or(Value::Null);
        return crate::display::json(&serde_json::json!({
            "answer": done.get("answer").cloned().unwrap_or(Value::String(String::new())),
            "model": done.get("model").cloned().unwrap_or(Value::Null),
            "cited": done.get("cited").cloned().unwrap_or(Value::Array(Vec::new())),
            "sources": sources,
        }));
    }
    if nothing {
        println!("Nothing in your notes matches that question.");
        return Ok(());
    }
    println!();
    let cited: Vec<u64> = done
        .as_ref()
        .and_then(|d| d["cited"].as_array())
        .map(|c| c.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    if !sources.is_empty() {
        println!();
        for source in &sources {
            let number = source["number"].as_u64().unwrap_or(0);
            let mark = if cited.contains(&number) { "*" } else { " " };
            println!(
                "{mark}[{number}] {} ({} {})",
                source["title"].as_str().unwrap_or_default(),
                source["kind"].as_str().unwrap_or_default(),
                source["id"]
            );
        }
    }
    Ok(())
}
