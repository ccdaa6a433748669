"""What the tests and the benchmarks share to drive Digit Lab: a real browser, a visitor speaking Streamlit's own
protocol, hostile files, hand-drawn symbols, photos of digits. Nothing here is part of the app."""
