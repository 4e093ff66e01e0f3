//! Files through the API: `POST /files` (a `multipart/form-data` body written here, one part
//! named `file` per file), a document's file back, and a retry of its extraction.

use crate::wire::{DocumentJson, FileUploadJson};
use crate::{ApiClient, ClientError};
use reqwest::Method;
use secrecy::ExposeSecret;

/// A multipart body holding `files` as parts named `file`, and its content type.
pub fn multipart_body(files: &[(String, Vec<u8>)]) -> (String, Vec<u8>) {
    let boundary = format!("jaryo-{:016x}", rand_boundary(files));
    let mut body = Vec::new();
    for (name, bytes) in files {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n",
                quoted(name)
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A boundary unlikely to occur in the files: derived from their lengths and a clock.
fn rand_boundary(files: &[(String, Vec<u8>)]) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    files
        .iter()
        .fold(nanos ^ 0x9e37_79b9_7f4a_7c15, |seed, (_, bytes)| {
            seed.rotate_left(7) ^ bytes.len() as u64
        })
}

/// A file name inside a quoted header parameter (browsers percent-encode `"` and newlines).
fn quoted(name: &str) -> String {
    name.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

impl ApiClient {
    /// Uploads `files` (name, bytes) in one request; the HTTP status and each file's result.
    pub async fn upload_files(
        &self,
        files: &[(String, Vec<u8>)],
    ) -> Result<(u16, FileUploadJson), ClientError> {
        let url = format!("{}/api/v1/files", self.base_url);
        let (content_type, body) = multipart_body(files);
        let response = self
            .http
            .post(&url)
            .bearer_auth(self.token.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .map_err(|source| ClientError::Transport {
                url: url.clone(),
                source,
            })?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|source| ClientError::Transport {
                url: url.clone(),
                source,
            })?;
        match serde_json::from_slice::<FileUploadJson>(&bytes) {
            Ok(results) => Ok((status, results)),
            Err(_) => match serde_json::from_slice::<crate::wire::ErrorJson>(&bytes) {
                Ok(error) => Err(ClientError::Api {
                    status,
                    code: error.error.code.clone(),
                    message: error.error.message.clone(),
                    error: Box::new(error),
                }),
                Err(_) => Err(ClientError::UnexpectedStatus { status }),
            },
        }
    }

    /// A document's original file, whole.
    pub async fn download_file(&self, id: i64) -> Result<Vec<u8>, ClientError> {
        let url = format!("{}/api/v1/documents/{id}/file", self.base_url);
        let transport = |source| ClientError::Transport {
            url: url.clone(),
            source,
        };
        let response = self
            .http
            .get(&url)
            .bearer_auth(self.token.expose_secret())
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(ClientError::UnexpectedStatus { status });
        }
        Ok(response.bytes().await.map_err(transport)?.to_vec())
    }

    /// Reads a document's file again (after a failure); attempts start again at zero.
    pub async fn retry_extraction(&self, id: i64) -> Result<DocumentJson, ClientError> {
        self.call_some(
            Method::POST,
            &format!("/documents/{id}/extraction/retry"),
            None::<&()>,
            None::<&()>,
        )
        .await
    }
}
