/// Engine placeholder.
public enum LeadBridgeEngine {}
