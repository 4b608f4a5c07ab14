"""RAG Lambda: answers questions over the knowledge base behind ``POST /ask``."""
