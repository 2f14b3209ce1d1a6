//! Rows printed with aligned columns once all are known: the readable
//! form of `parlor events`.

/// Rows printed with aligned columns once all are known.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Wider cells are cut, so one long payload keeps the table readable.
const MAX_CELL: usize = 80;

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|cell| {
                    if cell.chars().count() > MAX_CELL {
                        let cut: String = cell.chars().take(MAX_CELL - 1).collect();
                        format!("{cut}…")
                    } else {
                        cell
                    }
                })
                .collect(),
        );
    }

    #[allow(clippy::print_stdout)]
    pub fn print_if(&self, table: bool) {
        if !table {
            return;
        }
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            println!("{}", line.join("  ").trim_end());
        }
    }
}
