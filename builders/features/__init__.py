"""Feature tables (openSMILE, Essentia) for the rendered views of any dataset."""
