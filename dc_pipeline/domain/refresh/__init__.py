"""Refresh stability (beyond the SPEC): what changed for each brand between the previous materialization of a
partition and the new one, for the DC ranks (`ranks`) and the recommended knee plans (`plans`). Pure: the frames
come in, the change rows and their churn summaries go out; reading and writing the history is the caller's."""
