//! Line charts as SVG, drawn on the server: no script, readable by screen
//! readers (`role="img"` with a title and a description; pages put the
//! numbers in a table beside it), coloured from CSS so dark mode works.

use std::fmt::Write;

use jiff::tz::TimeZone;
use trellis_core::Millis;

use crate::when;

pub struct Series {
    pub label: String,
    pub points: Vec<(Millis, i64)>,
}

pub struct Chart<'a> {
    /// Unique on the page; used for the title and description ids.
    pub id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub range: (i64, i64),
    pub cutoff: Option<f64>,
    pub series: &'a [Series],
    /// The reader's time zone: dates and "the same day" are theirs.
    pub zone: &'a TimeZone,
}

// Drawn phone first: at 390 px a 420-unit chart shows its 14-unit labels
// at about 11 px; the page caps its width so they stay modest on a desktop.
const WIDTH: f64 = 420.0;
const HEIGHT: f64 = 230.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 46.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn line_chart(chart: &Chart<'_>) -> String {
    let times: Vec<Millis> = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|(t, _)| *t))
        .collect();
    let (t0, t1) = match (times.iter().min(), times.iter().max()) {
        (Some(a), Some(b)) => (*a, *b),
        _ => (0, 0),
    };
    let (lo, hi) = (
        chart.range.0 as f64,
        chart.range.1.max(chart.range.0 + 1) as f64,
    );
    let x = |t: Millis| {
        if t1 == t0 {
            LEFT + (WIDTH - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (t - t0) as f64 / (t1 - t0) as f64 * (WIDTH - LEFT - RIGHT)
        }
    };
    let y = |v: f64| TOP + (hi - v.clamp(lo, hi)) / (hi - lo) * (HEIGHT - TOP - BOTTOM);
    let id = escape(chart.id);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc" preserveAspectRatio="xMidYMid meet"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(chart.title),
        escape(chart.description)
    );
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{b}" x2="{r}" y2="{b}"/><line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b}"/>"#,
        b = HEIGHT - BOTTOM,
        r = WIDTH - RIGHT
    );
    for value in [lo, hi] {
        let _ = write!(
            svg,
            r#"<text class="tick" x="{}" y="{:.1}" text-anchor="end">{value}</text>"#,
            LEFT - 6.0,
            y(value) + 4.0
        );
    }
    if let Some(cutoff) = chart.cutoff {
        let cy = y(cutoff);
        let _ = write!(
            svg,
            r#"<line class="cutoff" x1="{LEFT}" y1="{cy:.1}" x2="{r}" y2="{cy:.1}"/><text class="tick" x="{}" y="{:.1}">cutoff {cutoff}</text>"#,
            LEFT + 4.0,
            cy - 4.0,
            r = WIDTH - RIGHT
        );
    }
    let (first_day, last_day) = (
        when::short_date(t0, chart.zone),
        when::short_date(t1, chart.zone),
    );
    if times.is_empty() {
        // nothing to date
    } else if first_day == last_day {
        // one day: one label, under its point
        let _ = write!(
            svg,
            r#"<text class="tick" x="{:.1}" y="{b}" text-anchor="middle">{first_day}</text>"#,
            x(t0),
            b = HEIGHT - BOTTOM + 18.0,
        );
    } else {
        let _ = write!(
            svg,
            r#"<text class="tick" x="{LEFT}" y="{b}">{first_day}</text><text class="tick" x="{r}" y="{b}" text-anchor="end">{last_day}</text>"#,
            b = HEIGHT - BOTTOM + 18.0,
            r = WIDTH - RIGHT
        );
    }
    for (n, series) in chart.series.iter().enumerate() {
        let class = format!("series-{}", n % 4);
        // The line joins each day's last reading: two check-ins on one day
        // are both drawn as points, without a sheer drop between them.
        let mut daily: Vec<(Millis, i64)> = Vec::new();
        for &(t, v) in &series.points {
            match daily.last_mut() {
                Some(last) if when::same_day(last.0, t, chart.zone) => *last = (t, v),
                _ => daily.push((t, v)),
            }
        }
        let points: Vec<String> = daily
            .iter()
            .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v as f64)))
            .collect();
        if points.len() > 1 {
            let _ = write!(
                svg,
                r#"<polyline class="{class}" fill="none" points="{}"/>"#,
                points.join(" ")
            );
        }
        for (t, v) in &series.points {
            let _ = write!(
                svg,
                r#"<circle class="{class}" cx="{:.1}" cy="{:.1}" r="4"/>"#,
                x(*t),
                y(*v as f64)
            );
        }
        let _ = write!(
            svg,
            r#"<text class="legend {class}" x="{}" y="{}">{}</text>"#,
            LEFT + n as f64 * 140.0,
            HEIGHT - 4.0,
            escape(&series.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use trellis_core::time::DAY;

    #[test]
    fn a_chart_is_an_accessible_svg_with_its_points() {
        let series = [
            Series {
                label: "Alex".into(),
                points: vec![(0, 10), (7 * DAY, 14), (14 * DAY, 16)],
            },
            Series {
                label: "Sam <&>".into(),
                points: vec![(0, 8)],
            },
        ];
        let svg = line_chart(&Chart {
            id: "csi4",
            title: "CSI-4 over time",
            description: "Alex rose from 10 to 16.",
            range: (0, 21),
            cutoff: Some(13.5),
            series: &series,
            zone: &TimeZone::UTC,
        });
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(
            svg.contains(r#"role="img""#)
                && svg.contains(r#"aria-labelledby="csi4-title csi4-desc""#)
        );
        assert!(svg.contains("<title id=\"csi4-title\">CSI-4 over time</title>"));
        assert_eq!(svg.matches("<circle").count(), 4);
        assert_eq!(
            svg.matches("<polyline").count(),
            1,
            "one point draws no line"
        );
        assert!(svg.contains("cutoff 13.5"));
        assert!(svg.contains("Sam &lt;&amp;&gt;"), "labels are escaped");
        // The first point sits at the left edge, the last at the right.
        assert!(svg.contains(&format!("cx=\"{LEFT:.1}\"")));
        assert!(svg.contains(&format!("cx=\"{:.1}\"", WIDTH - RIGHT)));
    }

    #[test]
    fn empty_and_single_point_charts_still_render() {
        let empty = line_chart(&Chart {
            id: "e",
            title: "t",
            description: "d",
            range: (0, 30),
            cutoff: None,
            series: &[],
            zone: &TimeZone::UTC,
        });
        assert!(empty.contains("<svg") && !empty.contains("<circle"));
        let one = [Series {
            label: "A".into(),
            points: vec![(5, 30)],
        }];
        let single = line_chart(&Chart {
            id: "s",
            title: "t",
            description: "d",
            range: (0, 30),
            cutoff: None,
            series: &one,
            zone: &TimeZone::UTC,
        });
        assert!(
            single.contains(&format!("cy=\"{TOP:.1}\"")),
            "the top of the range is at the top"
        );
    }

    #[test]
    fn one_day_has_one_date_and_same_day_readings_draw_no_drop() {
        let same_day = [Series {
            label: "A".into(),
            points: vec![(DAY + 1_000, 20), (DAY + 60_000, 5)],
        }];
        let svg = line_chart(&Chart {
            id: "d",
            title: "t",
            description: "d",
            range: (0, 30),
            cutoff: None,
            series: &same_day,
            zone: &TimeZone::UTC,
        });
        assert_eq!(svg.matches("2 Jan 1970").count(), 1, "{svg}");
        assert!(svg.contains(r#"text-anchor="middle">2 Jan 1970"#));
        assert_eq!(
            svg.matches("<circle").count(),
            2,
            "both readings are points"
        );
        assert!(!svg.contains("<polyline"), "no line from one day to itself");
        let two_days = [Series {
            label: "A".into(),
            points: vec![(0, 20), (DAY + 1_000, 5), (DAY + 60_000, 7), (3 * DAY, 9)],
        }];
        let svg = line_chart(&Chart {
            id: "w",
            title: "t",
            description: "d",
            range: (0, 30),
            cutoff: None,
            series: &two_days,
            zone: &TimeZone::UTC,
        });
        assert!(svg.contains(">1 Jan 1970<") && svg.contains(">4 Jan 1970<"));
        let line = &svg[svg.find("points=\"").unwrap()..];
        let line = &line[..line.find("\"/>").unwrap()];
        assert_eq!(
            line.split(' ').count(),
            3,
            "one point a day on the line: {line}"
        );
    }
}
