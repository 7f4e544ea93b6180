//! Analyse messages from stdin, one per line; prints the labels and the JSON.
//!
//! echo "You never listen" | cargo run -p trellis-coach --example analyze
//! Add `--labels` to print only `labels<TAB>text`.

use std::io::BufRead;

fn main() {
    let labels_only = std::env::args().any(|a| a == "--labels");
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let a = trellis_coach::analyze(&line);
        if labels_only {
            let l: Vec<&str> = a.labels.iter().map(|l| l.as_str()).collect();
            println!("{}\t{}", l.join(","), line);
        } else {
            match serde_json::to_string(&a) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("{e}"),
            }
        }
    }
}
