public enum StackPlaceholder {}
