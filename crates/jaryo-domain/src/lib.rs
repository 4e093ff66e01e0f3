//! Domain types of jaryo: memos, documents, draft work, and the rules that parse input into them.
