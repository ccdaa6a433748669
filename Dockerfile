# Digit Lab in a container: one Streamlit server on port 8501, as deploy/ runs several behind a proxy.
#   docker build -t digitlab . && docker run -p 8501:8501 digitlab
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# The pinned requirements first: this layer is rebuilt only when they change.
COPY requirements.txt .
RUN pip install -r requirements.txt

# A user of its own: nothing in the app needs root.
RUN useradd --create-home --uid 10001 digitlab
COPY --chown=digitlab:digitlab app.py ./
COPY --chown=digitlab:digitlab .streamlit .streamlit
COPY --chown=digitlab:digitlab app_pages app_pages
COPY --chown=digitlab:digitlab core core
COPY --chown=digitlab:digitlab ui ui
COPY --chown=digitlab:digitlab assets assets
COPY --chown=digitlab:digitlab locales locales
USER digitlab

EXPOSE 8501
# Streamlit answers "ok" here once it serves; a proxy or orchestrator stops sending visitors when it does not.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2).read() != b'ok')"]
CMD ["python", "-m", "streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
