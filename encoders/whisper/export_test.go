package whisper

// SetFullWindow switches e to Hugging Face's masked full-window computation.
func SetFullWindow(e *Encoder, on bool) { e.fullWindow = on }
